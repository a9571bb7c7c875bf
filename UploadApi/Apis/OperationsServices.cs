using Reference.UploadApi.Operations;

namespace Reference.UploadApi.Apis;

public sealed record OperationsServices(
    RabbitMqQueues Queues,
    WorkerRegistry Workers,
    UploadsOverview Uploads,
    UploadHistory History,
    Infrastructure.UploadDbContext Db,
    TimeProvider Clock,
    ILogger<OperationsServices> Logger);
