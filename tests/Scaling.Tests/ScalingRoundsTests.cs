using System.Diagnostics;

namespace Reference.Scaling.Tests;

/// <summary>The wait between rounds: an empty pool begins the next round as soon as a job waits, a running one waits the interval.</summary>
public sealed class ScalingRoundsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1.5);

    [Fact]
    public async Task An_empty_pool_ends_the_wait_at_the_first_probe_that_sees_a_waiting_job()
    {
        var clock = Stopwatch.StartNew();
        var probes = 0;
        var early = await ScalingRounds.WaitAsync(Interval, poolEmpty: true,
            _ => Task.FromResult<int?>(++probes >= 3 ? 1 : 0), TimeProvider.System, CancellationToken.None);

        Assert.True(early);
        Assert.Equal(3, probes);
        Assert.InRange(clock.Elapsed, 2.5 * ScalingRounds.EmptyPoolProbe, Interval - TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task An_empty_pool_with_nothing_waiting_or_an_unreadable_queue_waits_the_whole_interval()
    {
        foreach (var ready in new int?[] { 0, null })
        {
            var clock = Stopwatch.StartNew();
            var early = await ScalingRounds.WaitAsync(Interval, poolEmpty: true, _ => Task.FromResult(ready), TimeProvider.System, CancellationToken.None);

            Assert.False(early);
            Assert.InRange(clock.Elapsed, Interval - TimeSpan.FromMilliseconds(20), Interval + TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public async Task A_running_pool_waits_the_interval_without_probing()
    {
        var clock = Stopwatch.StartNew();
        var probes = 0;
        var early = await ScalingRounds.WaitAsync(Interval, poolEmpty: false,
            _ => Task.FromResult<int?>(++probes), TimeProvider.System, CancellationToken.None);

        Assert.False(early);
        Assert.Equal(0, probes);
        Assert.InRange(clock.Elapsed, Interval - TimeSpan.FromMilliseconds(20), Interval + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_stop_ends_the_wait_without_an_exception()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();
        var early = await ScalingRounds.WaitAsync(TimeSpan.FromMinutes(1), poolEmpty: true,
            ct => Task.Delay(Timeout.Infinite, ct).ContinueWith<int?>(_ => throw new OperationCanceledException(ct), TaskScheduler.Default), TimeProvider.System, stop.Token);

        Assert.False(early);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }
}
