using Reference.ImageWorker.Consumers;

namespace Reference.ImageWorker.Tests.Consumers;

public sealed class WorkerJobGateTests
{
    private static readonly TimeSpan Moment = TimeSpan.FromMilliseconds(200);
    private const long Budget = 300_000_000;
    private const long Small = 30_000_000;

    [Fact]
    public async Task Ordinary_jobs_run_side_by_side()
    {
        var gate = new WorkerJobGate(Budget);

        using var first = await gate.EnterAsync(Small, CancellationToken.None);
        var second = gate.EnterAsync(Small, CancellationToken.None);

        Assert.True(second.IsCompletedSuccessfully);
        (await second).Dispose();
    }

    [Fact]
    public async Task A_suspect_waits_for_the_running_jobs_and_keeps_new_ones_out_until_it_ends()
    {
        var gate = new WorkerJobGate(Budget);
        var running = await gate.EnterAsync(Small, CancellationToken.None);

        var alone = gate.EnterAloneAsync(CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(alone.IsCompleted);

        running.Dispose();
        var suspect = await alone.WaitAsync(TimeSpan.FromSeconds(5));
        var next = gate.EnterAsync(Small, CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(next.IsCompleted);

        suspect.Dispose();
        (await next.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task Two_suspects_take_turns()
    {
        var gate = new WorkerJobGate(Budget);
        var first = await gate.EnterAloneAsync(CancellationToken.None);

        var second = gate.EnterAloneAsync(CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(second.IsCompleted);

        first.Dispose();
        first.Dispose(); // a second dispose gives nothing back twice
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        using var ordinary = await gate.EnterAsync(Small, CancellationToken.None);
        using var another = await gate.EnterAsync(Small, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_suspect_given_up_while_waiting_gives_back_what_it_took()
    {
        var gate = new WorkerJobGate(Budget);
        var running = await gate.EnterAsync(Small, CancellationToken.None);
        using var cancel = new CancellationTokenSource(Moment);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAloneAsync(cancel.Token));

        running.Dispose();
        (await gate.EnterAloneAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task Jobs_are_admitted_by_their_estimated_memory_in_arrival_order()
    {
        var gate = new WorkerJobGate(Budget);
        var large = await gate.EnterAsync(200_000_000, CancellationToken.None);

        var second = gate.EnterAsync(200_000_000, CancellationToken.None);
        var small = gate.EnterAsync(Small, CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(second.IsCompleted);
        Assert.False(small.IsCompleted); // no overtaking: the large one waiting would starve

        large.Dispose();
        using var both = await second.WaitAsync(TimeSpan.FromSeconds(5));
        (await small.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task A_job_larger_than_the_whole_budget_runs_when_nothing_else_does()
    {
        var gate = new WorkerJobGate(Budget);
        var running = await gate.EnterAsync(Small, CancellationToken.None);

        var huge = gate.EnterAsync(Budget * 2, CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(huge.IsCompleted);

        running.Dispose();
        (await huge.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }
}
