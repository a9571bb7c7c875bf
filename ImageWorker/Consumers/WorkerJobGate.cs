namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Who runs in this worker process at once. Ordinary jobs are admitted by their estimated memory
/// (width × height × bytes per pixel) against the process's budget, first come first served, so two
/// large photos never decode side by side in a 512 MB container while small ones share it freely; a
/// job larger than the whole budget runs when nothing else does. A suspect job runs with nothing
/// beside it: when a worker process dies, every job it held is redelivered with that death counted
/// against it, so a good photo that merely shared the process with a crashing one looks just as
/// guilty. Running a suspect alone tells them apart: if the process dies then, nothing else was there.
/// </summary>
public sealed class WorkerJobGate(long budgetBytes)
{
    private readonly Lock _lock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private long _inUse;
    private int _running;
    private bool _aloneRunning;

    /// <summary>A place beside other ordinary jobs, once <paramref name="estimatedBytes"/> fit in the budget.</summary>
    public Task<IDisposable> EnterAsync(long estimatedBytes, CancellationToken cancellationToken) =>
        EnterAsync(new Waiter(Math.Max(0, estimatedBytes), Alone: false), cancellationToken);

    /// <summary>The whole process: waits for the jobs running now to end, and keeps new ones out until disposed.</summary>
    public Task<IDisposable> EnterAloneAsync(CancellationToken cancellationToken) =>
        EnterAsync(new Waiter(0, Alone: true), cancellationToken);

    private async Task<IDisposable> EnterAsync(Waiter waiter, CancellationToken cancellationToken)
    {
        LinkedListNode<Waiter> node;
        lock (_lock)
        {
            node = _queue.AddLast(waiter);
            Admit();
        }

        try
        {
            await waiter.Admitted.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            lock (_lock)
            {
                if (!waiter.Admitted.Task.IsCompleted)
                {
                    _queue.Remove(node);
                    Admit();
                    throw;
                }
            }
        }

        return new Lease(() =>
        {
            lock (_lock)
            {
                _running--;
                _inUse -= waiter.Bytes;
                _aloneRunning &= !waiter.Alone;
                Admit();
            }
        });
    }

    /// <summary>Admits waiters from the front of the queue while they fit; none overtakes another.</summary>
    private void Admit()
    {
        while (_queue.First is { } first)
        {
            var next = first.Value;
            var fits = !_aloneRunning && (_running == 0 || (!next.Alone && _inUse + next.Bytes <= budgetBytes));
            if (!fits)
            {
                return;
            }

            _queue.RemoveFirst();
            _running++;
            _inUse += next.Bytes;
            _aloneRunning = next.Alone;
            next.Admitted.TrySetResult();
        }
    }

    private sealed record Waiter(long Bytes, bool Alone)
    {
        public TaskCompletionSource Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class Lease(Action release) : IDisposable
    {
        private Action? _release = release;

        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
