using Reference.ImageWorker.Consumers;

namespace Reference.ImageWorker.Tests.Consumers;

public sealed class WorkerJobGateTests
{
    private static readonly TimeSpan Moment = TimeSpan.FromMilliseconds(200);

    [Fact]
    public async Task Ordinary_jobs_run_side_by_side()
    {
        var gate = new WorkerJobGate(2);

        using var first = await gate.EnterAsync(CancellationToken.None);
        var second = gate.EnterAsync(CancellationToken.None);

        Assert.True(second.IsCompletedSuccessfully);
        (await second).Dispose();
    }

    [Fact]
    public async Task A_suspect_waits_for_the_running_jobs_and_keeps_new_ones_out_until_it_ends()
    {
        var gate = new WorkerJobGate(2);
        var running = await gate.EnterAsync(CancellationToken.None);

        var alone = gate.EnterAloneAsync(CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(alone.IsCompleted);

        running.Dispose();
        var suspect = await alone.WaitAsync(TimeSpan.FromSeconds(5));
        var next = gate.EnterAsync(CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(next.IsCompleted);

        suspect.Dispose();
        (await next.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }

    [Fact]
    public async Task Two_suspects_take_turns()
    {
        var gate = new WorkerJobGate(2);
        var first = await gate.EnterAloneAsync(CancellationToken.None);

        var second = gate.EnterAloneAsync(CancellationToken.None);
        await Task.Delay(Moment);
        Assert.False(second.IsCompleted);

        first.Dispose();
        first.Dispose(); // a second dispose gives nothing back twice
        (await second.WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
        using var ordinary = await gate.EnterAsync(CancellationToken.None);
        using var another = await gate.EnterAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task A_suspect_given_up_while_waiting_gives_back_what_it_took()
    {
        var gate = new WorkerJobGate(2);
        var running = await gate.EnterAsync(CancellationToken.None);
        using var cancel = new CancellationTokenSource(Moment);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => gate.EnterAloneAsync(cancel.Token));

        running.Dispose();
        (await gate.EnterAloneAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5))).Dispose();
    }
}
