using System.Globalization;

namespace Reference.Scaling.Tests;

/// <summary>
/// The policy replayed over recorded readings: each line is the second of the reading, ready,
/// unacknowledged, the oldest waiting job's age in seconds (- when none), optionally the WebP copies
/// waiting or held, and the pool size the policy must leave after it. Decisions are applied at once, as the scheduler does.
/// </summary>
public sealed class ScalingPolicyTests
{
    private static readonly ScalingLimits Limits = new(
        MinWorkers: 0, MaxWorkers: 4, JobsPerWorkerTarget: 4, OldestWaitingTarget: TimeSpan.FromSeconds(2),
        LatencyTarget: TimeSpan.FromSeconds(10), StableWindow: TimeSpan.FromSeconds(10), IdleTimeout: TimeSpan.FromSeconds(30));

    [Fact]
    public void One_upload_into_a_cold_pool_starts_one_worker_at_once_and_the_pool_goes_back_to_zero_after_the_idle_timeout()
    {
        Replay(Limits, start: 0, """
            0   0 0 -   0
            2   1 0 0.1 1
            4   0 1 -   1
            6   0 0 -   1
            20  0 0 -   1
            33  0 0 -   1
            35  0 0 -   0
            """);
    }

    [Fact]
    public void A_burst_raises_the_pool_to_the_cap_at_once_and_not_beyond_then_it_steps_down_one_per_window()
    {
        Replay(Limits, start: 1, """
            0   200 0 0.5 4
            2   190 8 2.5 4
            4   150 8 6   4
            30  5   8 1   4
            32  0   6 -   4
            42  0   6 -   3
            44  0   6 -   3
            52  0   3 -   2
            62  0   2 -   1
            72  0   1 -   1
            101 0   0 -   1
            103 0   0 -   0
            """);
    }

    [Fact]
    public void An_old_waiting_job_adds_one_worker_even_when_the_backlog_per_worker_is_small()
    {
        Replay(Limits, start: 1, """
            0 2 2 1.0 1
            2 2 2 3.1 2
            4 2 2 5.1 3
            """);
    }

    [Fact]
    public void A_job_that_waits_while_its_worker_starts_gets_no_second_worker()
    {
        Replay(Limits, start: 0, """
            0  1 0 0.1  1
            2  1 0 3.0  1
            10 1 0 11.0 1
            20 0 1 -    1
            """);
    }

    [Fact]
    public void The_minimum_is_kept_through_idleness_and_restored_when_below_it()
    {
        var limits = Limits with { MinWorkers = 2 };
        Replay(limits, start: 0, """
            0  0 0 - 2
            40 0 0 - 2
            """);
    }

    [Fact]
    public void An_unreadable_queue_holds_the_pool_and_a_fresh_policy_keeps_the_workers_it_finds()
    {
        var policy = new ScalingPolicy(Limits);
        var now = DateTimeOffset.UnixEpoch;
        var held = policy.Decide(new ScalingInputs(null, 3, now));
        Assert.Equal((3, 3), (held.From, held.To));
        Assert.Contains("unreadable", held.Reason);

        // A restarted scheduler with three running workers and an empty queue: none stopped until the idle timeout.
        var fresh = new ScalingPolicy(Limits);
        Assert.Equal(3, fresh.Decide(new ScalingInputs(new QueueReading(0, 0), 3, now)).To);
        Assert.Equal(3, fresh.Decide(new ScalingInputs(new QueueReading(0, 0), 3, now.AddSeconds(9))).To);
        Assert.Equal(2, fresh.Decide(new ScalingInputs(new QueueReading(0, 0), 3, now.AddSeconds(11))).To);
    }

    [Fact]
    public void A_decision_says_what_it_saw_and_why()
    {
        var policy = new ScalingPolicy(Limits with { MaxWorkers = 8, JobsPerWorkerTarget = 20 });
        var decision = policy.Decide(new ScalingInputs(new QueueReading(42, 6, TimeSpan.FromSeconds(6.1)), 3, DateTimeOffset.UnixEpoch));

        Assert.Equal("3 → 4: 42 waiting, 6 held, oldest 6.1 s, target 2 s", decision.ToString());
    }

    [Fact]
    public void High_latency_with_work_queued_adds_a_worker()
    {
        var policy = new ScalingPolicy(Limits);
        var decision = policy.Decide(new ScalingInputs(new QueueReading(0, 2, null, TimeSpan.FromSeconds(12)), 1, DateTimeOffset.UnixEpoch));
        Assert.Equal(2, decision.To);
        Assert.Contains("latency 12 s over target 10 s", decision.Reason);
    }

    [Fact]
    public void Webp_copies_left_after_a_burst_keep_one_worker_past_the_idle_timeout_and_never_add_one()
    {
        Replay(Limits, start: 2, """
            0   0 0 - 300 2
            9   0 0 - 250 2
            10  0 0 - 240 1
            40  0 0 - 20  1
            50  0 0 - 0   1
            69  0 0 - 0   1
            71  0 0 - 0   0
            """);
    }

    [Fact]
    public void Webp_copies_waiting_in_an_empty_pool_start_one_worker()
    {
        var decision = new ScalingPolicy(Limits).Decide(new ScalingInputs(new QueueReading(0, 0, Background: 40), 0, DateTimeOffset.UnixEpoch));
        Assert.Equal("0 → 1: 0 waiting, 0 held, 40 WebP copies, copies to make", decision.ToString());
    }

    private static void Replay(ScalingLimits limits, int start, string recording)
    {
        var policy = new ScalingPolicy(limits);
        var workers = start;
        var log = new List<string>();
        foreach (var line in recording.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            TimeSpan? oldest = f[3] == "-" ? null : TimeSpan.FromSeconds(double.Parse(f[3], CultureInfo.InvariantCulture));
            var decision = policy.Decide(new ScalingInputs(
                new QueueReading(int.Parse(f[1]), int.Parse(f[2]), oldest, Background: f.Length > 5 ? int.Parse(f[4]) : 0),
                workers, DateTimeOffset.UnixEpoch.AddSeconds(double.Parse(f[0], CultureInfo.InvariantCulture))));
            log.Add($"t={f[0]} {decision}");
            Assert.InRange(decision.To, limits.MinWorkers, limits.MaxWorkers);
            Assert.True(Math.Abs(decision.To - workers) <= 1 || decision.To > workers || decision.To == limits.MinWorkers,
                $"stepped down by more than one outside idleness:\n{string.Join('\n', log)}");
            workers = decision.To;
            Assert.True(workers == int.Parse(f[^1]), $"expected {f[^1]} workers after t={f[0]}:\n{string.Join('\n', log)}");
        }
    }
}
