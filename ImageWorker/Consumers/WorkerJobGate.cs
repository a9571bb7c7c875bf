namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Who runs in this worker process at once: ordinary jobs side by side (as many as the endpoint's
/// concurrency), or one suspect job with nothing beside it. When a worker process dies, every job it
/// held is redelivered with that death counted against it, so a good photo that merely shared the
/// process with a crashing one looks just as guilty. Running a suspect alone tells them apart: if the
/// process dies then, nothing else was there.
/// </summary>
public sealed class WorkerJobGate(int slots)
{
    private readonly SemaphoreSlim _slots = new(slots, slots);
    private readonly SemaphoreSlim _alone = new(1, 1);

    /// <summary>A place beside the other ordinary jobs; waits only while a suspect runs alone.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Lease(() => _slots.Release());
    }

    /// <summary>The whole process: waits for the jobs running now to end, and keeps new ones out until disposed.</summary>
    public async Task<IDisposable> EnterAloneAsync(CancellationToken cancellationToken)
    {
        // One suspect at a time, so two of them never each hold part of the slots.
        await _alone.WaitAsync(cancellationToken);
        var taken = 0;
        try
        {
            for (; taken < slots; taken++)
            {
                await _slots.WaitAsync(cancellationToken);
            }
        }
        catch
        {
            if (taken > 0)
            {
                _slots.Release(taken);
            }

            _alone.Release();
            throw;
        }

        return new Lease(() =>
        {
            _slots.Release(slots);
            _alone.Release();
        });
    }

    private sealed class Lease(Action release) : IDisposable
    {
        private Action? _release = release;

        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
