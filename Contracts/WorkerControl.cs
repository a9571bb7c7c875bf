namespace Reference.Contracts;

// What an image worker tells the operations console, and how anyone (the console, the AppHost's
// dashboard commands, a scheduler) tells one worker what to do. Both travel through Redis, so they
// outlive a restart of whoever reads them; a worker's key expires when it stops sending.

/// <summary>One worker process as it reported itself last, every <see cref="WorkerControl.HeartbeatInterval"/>.</summary>
/// <param name="WorkerId">Unique per process: <c>{Name}.{Host}.{Pid}</c>.</param>
/// <param name="Name">The service's name (<c>OTEL_SERVICE_NAME</c>): the AppHost resource, e.g. <c>imageworker-1</c>.</param>
/// <param name="State">Running, Draining (takes nothing new), Drained (holds nothing, takes nothing) or Stopping.</param>
/// <param name="LastWords">Set just before the process ends itself (a job past its time budget): why.</param>
public sealed record WorkerHeartbeat(
    string WorkerId,
    string Name,
    string Host,
    int Pid,
    string Version,
    DateTimeOffset StartedAt,
    int Concurrency,
    string State,
    IReadOnlyList<WorkerJob> Jobs,
    long Done,
    long Failed,
    long ResidentBytes,
    DateTimeOffset SentAt,
    string? LastWords = null);

/// <summary>A job a worker holds: <paramref name="Running"/> once it has passed the memory gate, waiting before.</summary>
public sealed record WorkerJob(Guid UploadId, Guid? ProductId, long Bytes, long Pixels, DateTimeOffset ReceivedAt, bool Running);

/// <summary>What an operator (or a scheduler) can ask of one worker.</summary>
public enum WorkerCommand
{
    /// <summary>Take nothing new, finish what it holds, then stay idle.</summary>
    Drain,

    /// <summary>Drain, then end the process (exit code 0: a supervisor leaves it stopped).</summary>
    Stop,

    /// <summary>After a drain (not a stop): take jobs again.</summary>
    Resume,
}

/// <summary>Where the heartbeats and commands live in Redis, and how often they move.</summary>
public static class WorkerControl
{
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(3);

    /// <summary>A worker silent this long is shown as lost.</summary>
    public static readonly TimeSpan LostAfter = TimeSpan.FromSeconds(15);

    /// <summary>How long a lost worker's last heartbeat stays on view.</summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(10);

    /// <summary>A sorted set of worker ids, scored by their last heartbeat (Unix milliseconds).</summary>
    public const string WorkersKey = "ops:workers";

    /// <summary>The worker's last <see cref="WorkerHeartbeat"/>, as JSON.</summary>
    public static string HeartbeatKey(string workerId) => $"ops:worker:{workerId}";

    /// <summary>A <see cref="WorkerCommand"/> name the worker reads with each heartbeat and acts on once.</summary>
    public static string CommandKey(string workerId) => $"ops:worker:{workerId}:command";

    /// <summary>One upload's history as the console shows it: a capped list of JSON <see cref="UploadHistoryEntry"/>.</summary>
    public static string HistoryKey(Guid uploadId) => $"ops:upload-history:{uploadId}";

    /// <summary>The poison guard's counts of starts that never finished (ImageWorker's ProcessingAttempts); an operator's retry clears them.</summary>
    public static string AttemptsKey(Guid uploadId) => $"imageworker:attempts:{uploadId}";

    public static string AloneAttemptsKey(Guid uploadId) => $"imageworker:attempts-alone:{uploadId}";

    /// <summary>The scaler's last changes of the pool, newest first: a capped list of JSON <see cref="ScalerDecision"/>.</summary>
    public const string ScalerDecisionsKey = "ops:scaler:decisions";

    /// <summary>The scaler's latest reading, changed or not (<see cref="ScalerDecision"/>); it expires when no scaler runs.</summary>
    public const string ScalerCurrentKey = "ops:scaler:current";

    /// <summary>How many of the scaler's changes the console keeps.</summary>
    public const int ScalerDecisionsKept = 50;

    /// <summary><see cref="ScalerCurrentKey"/> outlives its scaler by this much, <see cref="ScalerDecisionsKey"/> by a day.</summary>
    public static readonly TimeSpan ScalerCurrentKeptFor = TimeSpan.FromMinutes(1);

    public static readonly TimeSpan ScalerDecisionsKeptFor = TimeSpan.FromDays(1);
}

/// <summary>One round of the worker scaler, as the console shows it: the pool from <paramref name="From"/> to <paramref name="To"/> and why.</summary>
/// <param name="Ready">Jobs waiting at the reading; null when the queue could not be read, as for the other inputs.</param>
/// <param name="Leaving">Workers being drained to stop, not counted in <paramref name="From"/>.</param>
/// <param name="Pool">Null for the image workers; an API's name (<c>inventoryapi</c>) for its replicas, scaled by latency.</param>
public sealed record ScalerDecision(
    DateTimeOffset At,
    int From,
    int To,
    string Reason,
    int? Ready,
    int? Unacked,
    double? OldestWaitingSeconds,
    IReadOnlyList<string> Leaving,
    int MinWorkers,
    int MaxWorkers,
    string? Pool = null);

/// <param name="Source">Who wrote it: a worker id, or <c>uploadapi</c>.</param>
public sealed record UploadHistoryEntry(DateTimeOffset At, string Source, string Event, string? Detail);
