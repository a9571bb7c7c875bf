using Reference.Contracts;
using Reference.UploadApi.Operations;

namespace Reference.UploadApi.Apis;

public sealed record UploadsPage(Dictionary<string, int> Counts, IReadOnlyList<UploadSummary> Uploads);

public sealed record UploadDetail(UploadSummary Upload, IReadOnlyList<UploadHistoryEntry> History);

public sealed record ErrorQueueAction(string Queue, int Messages);

public sealed record RetriedUploads(int Retried, IReadOnlyList<string> Refused);

public sealed record OperationsSnapshot(
    DateTimeOffset At,
    IReadOnlyList<QueueView> Queues,
    string? QueuesProblem,
    IReadOnlyList<WorkerView> Workers,
    Dictionary<string, int> Counts,
    IReadOnlyList<UploadSummary> Latest,
    IReadOnlyList<ThroughputPoint> Throughput);
