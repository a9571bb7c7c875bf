using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using Reference.Contracts;
using StackExchange.Redis;

namespace Reference.ImageWorker.Operations;

/// <summary>
/// The jobs this worker holds now and its counts since start, for the heartbeat and the
/// <c>Reference.ImageWorker</c> meter (jobs in flight, job duration, failures by reason), and each job's
/// steps in the upload's history (<see cref="WorkerControl.HistoryKey"/>), where the console shows them.
/// </summary>
public sealed class WorkerJobs : IDisposable
{
    private const int HistoryLength = 50;
    private static readonly TimeSpan HistoryKeptFor = TimeSpan.FromDays(2);

    private readonly ConcurrentDictionary<Guid, Held> _held = new();
    private readonly Meter _meter = new("Reference.ImageWorker");
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failures;
    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<WorkerJobs> _logger;
    private long _done;
    private long _failed;

    public WorkerJobs(WorkerIdentity identity, IConnectionMultiplexer redis, ILogger<WorkerJobs> logger)
    {
        Identity = identity;
        _redis = redis;
        _logger = logger;
        _meter.CreateObservableUpDownCounter("imageworker.jobs.in_flight", () => _held.Count, "{job}", "Jobs this worker holds, waiting or running.");
        _duration = _meter.CreateHistogram<double>("imageworker.job.duration", "s", "From receiving a job to its result.");
        _failures = _meter.CreateCounter<long>("imageworker.jobs.failed", "{job}", "Jobs that ended Failed, by reason.");
    }

    public WorkerIdentity Identity { get; }

    public int Count => _held.Count;

    public long Done => Interlocked.Read(ref _done);

    public long Failed => Interlocked.Read(ref _failed);

    public IReadOnlyList<WorkerJob> Snapshot() =>
        _held.Values.Select(h => new WorkerJob(h.UploadId, h.ProductId, h.Bytes, h.Pixels, h.ReceivedAt, h.Running)).ToList();

    public Held Receive(Guid uploadId, Guid? productId, long bytes, long pixels)
    {
        var held = new Held(this, uploadId, productId, bytes, pixels, DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
        _held[uploadId] = held;
        return held;
    }

    /// <summary>Appends to the upload's history; fails open (the console loses a line, the job goes on).</summary>
    public void Record(Guid uploadId, string @event, string? detail = null, bool wait = false)
    {
        try
        {
            var entry = JsonSerializer.Serialize(new UploadHistoryEntry(DateTimeOffset.UtcNow, Identity.WorkerId, @event, detail), JsonSerializerOptions.Web);
            var database = _redis.GetDatabase();
            var key = WorkerControl.HistoryKey(uploadId);
            var flags = wait ? CommandFlags.None : CommandFlags.FireAndForget;
            database.ListRightPush(key, entry, flags: flags);
            database.ListTrim(key, -HistoryLength, -1, flags: CommandFlags.FireAndForget);
            database.KeyExpire(key, HistoryKeptFor, flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            _logger.LogDebug(e, "Could not record {Event} in the history of upload {UploadId}.", @event, uploadId);
        }
    }

    public void Dispose() => _meter.Dispose();

    /// <summary>One job from receipt to its end; disposing it without an outcome means the job was handed back.</summary>
    public sealed class Held(WorkerJobs jobs, Guid uploadId, Guid? productId, long bytes, long pixels, DateTimeOffset receivedAt, long startedTimestamp)
        : IDisposable
    {
        public Guid UploadId => uploadId;
        public Guid? ProductId => productId;
        public long Bytes => bytes;
        public long Pixels => pixels;
        public DateTimeOffset ReceivedAt => receivedAt;
        public bool Running { get; private set; }

        public void Start()
        {
            Running = true;
            jobs.Record(uploadId, "started", $"{bytes} bytes, {pixels} pixels");
        }

        public void Succeeded()
        {
            Interlocked.Increment(ref jobs._done);
            jobs._duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new KeyValuePair<string, object?>("outcome", "ready"));
            jobs.Record(uploadId, "processed");
        }

        /// <param name="reason">A short, fixed reason for the metric's tag: unprocessable, poison, time-budget.</param>
        public void FailedWith(string reason, string detail, bool wait = false)
        {
            Interlocked.Increment(ref jobs._failed);
            jobs._failures.Add(1, new KeyValuePair<string, object?>("reason", reason));
            jobs._duration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, new KeyValuePair<string, object?>("outcome", "failed"));
            jobs.Record(uploadId, "failed", $"{reason}: {detail}", wait);
        }

        public void Dispose() => jobs._held.TryRemove(new KeyValuePair<Guid, Held>(uploadId, this));
    }
}

/// <summary>Who this worker process is, as the console and the dashboard's commands name it.</summary>
public sealed class WorkerIdentity
{
    public WorkerIdentity(IConfiguration configuration)
    {
        Name = configuration["OTEL_SERVICE_NAME"] ?? "imageworker";
        Host = Environment.MachineName;
        Pid = Environment.ProcessId;
        WorkerId = $"{Name}.{Host}.{Pid}";
        Version = typeof(WorkerIdentity).Assembly.GetName().Version?.ToString() ?? "0";
        StartedAt = Process.GetCurrentProcess().StartTime.ToUniversalTime();
    }

    public string WorkerId { get; }
    public string Name { get; }
    public string Host { get; }
    public int Pid { get; }
    public string Version { get; }
    public DateTimeOffset StartedAt { get; }
}
