namespace Reference.ImageWorker.Operations;

/// <summary>Set once this worker is asked to drain: a job received but not yet started then waits to be handed back.</summary>
public sealed class WorkerDrain
{
    private readonly TaskCompletionSource _begun = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsDraining => _begun.Task.IsCompleted;

    public void Begin() => _begun.TrySetResult();
}
