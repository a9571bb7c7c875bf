namespace Reference.ImageWorker.Operations;

/// <summary>Set while this worker drains or is drained: a job received but not yet started then waits to be handed back. A resume clears it.</summary>
public sealed class WorkerDrain
{
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public void Begin() => _draining = true;

    public void End() => _draining = false;
}
