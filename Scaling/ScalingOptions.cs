namespace Reference.Scaling;

/// <summary>The <c>Scaling</c> configuration section: how many image workers run, and when that changes.</summary>
public sealed class ScalingOptions
{
    public const string Section = "Scaling";

    /// <summary>False: a fixed pool of <c>Replicas:ImageWorker</c> workers (compose: one worker process), as before scaling existed.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Workers kept running with an empty queue.</summary>
    public int MinWorkers { get; set; }

    /// <summary>The cap; unset: derived from the machine (<see cref="MachineCapacity"/>).</summary>
    public int? MaxWorkers { get; set; }

    /// <summary>What one worker may hold, to derive the cap from memory (compose gives a worker 512 MB).</summary>
    public int WorkerMemoryMegabytes { get; set; } = 512;

    /// <summary>Jobs (waiting and held) one worker should have at most; more adds workers at once.</summary>
    public double JobsPerWorkerTarget { get; set; } = 4;

    /// <summary>A job waiting longer than this adds a worker at once.</summary>
    public TimeSpan OldestWaitingTarget { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Recent upload→Ready latency above this, with work queued, adds a worker.</summary>
    public TimeSpan LatencyTarget { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A smaller pool must be wanted this long before one worker is stopped, and this long again for the next.</summary>
    public TimeSpan StableWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After this long with an empty queue, the pool goes down to <see cref="MinWorkers"/>.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a worker told to drain may take to say Drained in its heartbeat; after it, it is stopped once the
    /// broker shows it holds no job (as it is at once when it sends no heartbeat at all).
    /// </summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Between two readings of the queue (an empty pool also looks for a waiting job meanwhile: <see cref="ScalingRounds"/>).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The settings the policy works with, the cap resolved against <paramref name="machine"/>.</summary>
    public ScalingLimits Resolve(MachineCapacity machine) => new(
        MinWorkers,
        MaxWorkers ?? Math.Max(Math.Max(1, MinWorkers), machine.WorkersFor(WorkerMemoryMegabytes)),
        JobsPerWorkerTarget, OldestWaitingTarget, LatencyTarget, StableWindow, IdleTimeout);
}

/// <summary>Resolved settings of <see cref="ScalingPolicy"/>.</summary>
public sealed record ScalingLimits(
    int MinWorkers,
    int MaxWorkers,
    double JobsPerWorkerTarget,
    TimeSpan OldestWaitingTarget,
    TimeSpan LatencyTarget,
    TimeSpan StableWindow,
    TimeSpan IdleTimeout);

/// <summary>What the machine (or the container's limits) can hold: one worker per core, and no more than memory allows.</summary>
public sealed record MachineCapacity(int Cores, long MemoryBytes)
{
    /// <summary>This process's view: cores and memory as the runtime sees them, container limits included.</summary>
    public static MachineCapacity Current => new(Environment.ProcessorCount, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);

    public int WorkersFor(int workerMemoryMegabytes) =>
        (int)Math.Max(1, Math.Min(Cores, MemoryBytes / (Math.Max(1, workerMemoryMegabytes) * 1024L * 1024)));
}
