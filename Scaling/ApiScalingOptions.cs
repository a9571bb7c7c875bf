namespace Reference.Scaling;

/// <summary>
/// The <c>Scaling:Apis</c> section: InventoryApi and UploadApi replicas, between 1 and <c>Replicas:*</c>, by the gateway's
/// measured latency and requests in flight (<see cref="ApiScalingPolicy"/>).
/// </summary>
public sealed class ApiScalingOptions
{
    public const string Section = "Scaling:Apis";

    /// <summary>Unset: on in the run when an API's replica count is the AppHost's default and above 1; a count set with <c>Replicas:*</c> then runs in full.</summary>
    public bool? Enabled { get; set; }

    /// <summary>A p95 above this over the gateway's window adds a replica at once.</summary>
    public TimeSpan LatencyTarget { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Requests in flight per running replica above this add replicas at once, as many as the count needs.</summary>
    public double InFlightPerReplicaTarget { get; set; } = 16;

    /// <summary>One replica fewer must do (p95 and in flight under half their targets) this long before one is stopped.</summary>
    public TimeSpan StableWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Between two readings of the gateway.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a replica taken out of the gateway may finish its requests before it is stopped anyway (graceful shutdown still waits for them).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public ApiScalingLimits Limits => new(LatencyTarget, InFlightPerReplicaTarget, StableWindow);
}

/// <summary>Resolved settings of <see cref="ApiScalingPolicy"/>.</summary>
public sealed record ApiScalingLimits(TimeSpan LatencyTarget, double InFlightPerReplicaTarget, TimeSpan StableWindow);
