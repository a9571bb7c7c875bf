using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Reference.Contracts;
using Reference.UploadApi.Model;
using Reference.UploadApi.Operations;

namespace Reference.UploadApi.Apis;

/// <summary>
/// The operations console's API (<c>/admin/jobs.html</c>): queues, workers and uploads, live, and the operator's
/// actions on them. It lives in UploadApi because the upload rows are UploadApi's: a retry is a state change
/// of its own state machine, and the rest only reads Redis and RabbitMQ, which UploadApi already talks to.
/// </summary>
public static class OperationsApi
{
    private const int MaxListed = 200;

    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/ops").RequireAdminKey().WithTags("Operations");
        api.MapGet("/queues", GetQueues);
        api.MapGet("/workers", GetWorkers);
        api.MapGet("/scaler", GetScaler);
        api.MapGet("/uploads", GetUploads);
        api.MapGet("/uploads/{id:guid}", GetUploadHistory);
        api.MapGet("/throughput", GetThroughput);
        api.MapGet("/stream", StreamSnapshots);
        api.MapPost("/workers/{id}/drain", (string id, [AsParameters] OperationsServices services) => CommandWorker(id, WorkerCommand.Drain, services));
        api.MapPost("/workers/{id}/stop", (string id, [AsParameters] OperationsServices services) => CommandWorker(id, WorkerCommand.Stop, services));
        api.MapPost("/workers/{id}/resume", (string id, [AsParameters] OperationsServices services) => CommandWorker(id, WorkerCommand.Resume, services));
        api.MapPost("/error-queues/{queue}/redrive", RedriveErrorQueue);
        api.MapPost("/error-queues/{queue}/purge", PurgeErrorQueue);
        api.MapPost("/uploads/retry-failed", RetryAllFailed);
        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<QueueView>>, ProblemHttpResult>> GetQueues(
        [AsParameters] OperationsServices services, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await services.Queues.ListAsync(cancellationToken));
        }
        catch (HttpRequestException e)
        {
            return Problem(StatusCodes.Status503ServiceUnavailable, $"RabbitMQ's management API did not answer: {e.Message}");
        }
    }

    public static async Task<Ok<IReadOnlyList<WorkerView>>> GetWorkers([AsParameters] OperationsServices services) =>
        TypedResults.Ok(await services.Workers.ListAsync());

    /// <summary>The worker scaler's latest round (pool size, cap) and its last changes with their reasons.</summary>
    public static async Task<Ok<ScalerView>> GetScaler(ScalerDecisions decisions) => TypedResults.Ok(await decisions.ReadAsync());

    public static async Task<Results<Ok<UploadsPage>, ProblemHttpResult>> GetUploads(
        string? state, int? limit, [AsParameters] OperationsServices services, CancellationToken cancellationToken)
    {
        UploadStatus? wanted = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (!Enum.TryParse<UploadStatus>(state, ignoreCase: true, out var parsed) || int.TryParse(state, out _))
            {
                return Problem(StatusCodes.Status400BadRequest, $"state must be one of {string.Join(", ", Enum.GetNames<UploadStatus>())}.");
            }

            wanted = parsed;
        }

        if (limit is < 1 or > MaxListed)
        {
            return Problem(StatusCodes.Status400BadRequest, $"limit must be between 1 and {MaxListed}.");
        }

        return TypedResults.Ok(new UploadsPage(
            await services.Uploads.CountsAsync(cancellationToken),
            await services.Uploads.LatestAsync(wanted, limit ?? 50, cancellationToken)));
    }

    public static async Task<Results<Ok<UploadDetail>, ProblemHttpResult>> GetUploadHistory(
        Guid id, [AsParameters] OperationsServices services, CancellationToken cancellationToken)
    {
        var upload = await services.Db.Uploads.FindAsync([id], cancellationToken);
        if (upload is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"There is no upload {id}.");
        }

        var history = await services.History.ReadAsync(id);
        var started = history.LastOrDefault(e => e.Event == "started")?.At;
        var accepted = new UploadHistoryEntry(upload.CreatedAt, UploadHistory.Source, "accepted",
            $"{upload.Width}×{upload.Height} {upload.ContentType}");
        return TypedResults.Ok(new UploadDetail(UploadSummary.From(upload, started, services.Clock.GetUtcNow()), [accepted, .. history]));
    }

    public static async Task<Ok<IReadOnlyList<ThroughputPoint>>> GetThroughput([AsParameters] OperationsServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await services.Uploads.ThroughputAsync(cancellationToken));

    /// <summary>Server-Sent Events: the whole picture (queues, workers, uploads, throughput) every few seconds until the client leaves.</summary>
    public static async Task StreamSnapshots(
        HttpContext http, [AsParameters] OperationsServices services, IOptions<OperationsOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var cancellationToken = http.RequestAborted;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        using var timer = new PeriodicTimer(options.Value.StreamInterval);
        try
        {
            do
            {
                var snapshot = await SnapshotAsync(services, cancellationToken);
                await http.Response.WriteAsync($"event: snapshot\ndata: {JsonSerializer.Serialize(snapshot, json.Value.SerializerOptions)}\n\n", cancellationToken);
                await http.Response.Body.FlushAsync(cancellationToken);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The page was closed.
        }
    }

    public static async Task<Results<Accepted<WorkerView>, ProblemHttpResult>> CommandWorker(
        string id, WorkerCommand command, OperationsServices services)
    {
        using var activity = OperationsTelemetry.Source.StartActivity($"ops worker {command}");
        activity?.SetTag("worker.id", id);
        var worker = await services.Workers.FindAsync(id);
        if (worker is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"There is no worker {id}.");
        }

        if (worker.Lost)
        {
            return Problem(StatusCodes.Status409Conflict, $"Worker {id} has sent no heartbeat for {worker.SilentForSeconds} s: it is lost, and cannot act on a command.");
        }

        // Resume undoes a drain only: a running worker has nothing to resume, a stopping one is on its way out.
        if (command == WorkerCommand.Resume && worker.Heartbeat.State is not ("Draining" or "Drained"))
        {
            return Problem(StatusCodes.Status409Conflict, $"Worker {id} is {worker.Heartbeat.State}: only a draining or drained worker can resume.");
        }

        await services.Workers.SendAsync(id, command);
        services.Logger.LogWarning("An operator told worker {WorkerId} to {Command}.", id, command);
        return TypedResults.Accepted("/api/ops/workers", worker);
    }

    public static async Task<Results<Ok<ErrorQueueAction>, ProblemHttpResult>> RedriveErrorQueue(
        string queue, [AsParameters] OperationsServices services, CancellationToken cancellationToken)
    {
        using var activity = OperationsTelemetry.Source.StartActivity("ops redrive error queue");
        activity?.SetTag("queue", queue);
        if (!services.Queues.CanOperate)
        {
            return NoOperator();
        }

        var moved = await services.Queues.RedriveAsync(queue, cancellationToken);
        if (moved is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"There is no error queue {queue} (with its source queue) to re-drive.");
        }

        services.Logger.LogWarning("An operator moved {Count} messages from {Queue} back to its source queue.", moved, queue);
        return TypedResults.Ok(new ErrorQueueAction(queue, moved.Value));
    }

    public static async Task<Results<Ok<ErrorQueueAction>, ProblemHttpResult>> PurgeErrorQueue(
        string queue, [AsParameters] OperationsServices services, CancellationToken cancellationToken)
    {
        using var activity = OperationsTelemetry.Source.StartActivity("ops purge error queue");
        activity?.SetTag("queue", queue);
        if (!services.Queues.CanOperate)
        {
            return NoOperator();
        }

        var purged = await services.Queues.PurgeAsync(queue, cancellationToken);
        if (purged is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"There is no error queue {queue} to purge.");
        }

        services.Logger.LogWarning("An operator purged {Count} messages from {Queue}.", purged, queue);
        return TypedResults.Ok(new ErrorQueueAction(queue, purged.Value));
    }

    /// <summary>The dashboard's "retry all failed": every Failed upload whose original is intact.</summary>
    public static async Task<Ok<RetriedUploads>> RetryAllFailed(
        [AsParameters] OperationsServices services, UploadRetries retries, CancellationToken cancellationToken)
    {
        var failed = await services.Uploads.LatestAsync(UploadStatus.Failed, 1000, cancellationToken);
        var retried = 0;
        var refused = new List<string>();
        foreach (var upload in failed)
        {
            var outcome = await retries.RetryAsync(upload.Id, cancellationToken);
            if (outcome.Refusal is { } reason)
            {
                refused.Add(reason);
            }
            else if (outcome.Found)
            {
                retried++;
            }
        }

        return TypedResults.Ok(new RetriedUploads(retried, refused));
    }

    private static async Task<OperationsSnapshot> SnapshotAsync(OperationsServices services, CancellationToken cancellationToken)
    {
        IReadOnlyList<QueueView> queues = [];
        string? queuesProblem = null;
        try
        {
            queues = await services.Queues.ListAsync(cancellationToken);
        }
        catch (HttpRequestException e)
        {
            queuesProblem = $"RabbitMQ's management API did not answer: {e.Message}";
        }

        return new OperationsSnapshot(
            services.Clock.GetUtcNow(),
            queues,
            queuesProblem ?? (services.Queues.IsConfigured ? null : "No RabbitMQ management URL is configured (Operations:RabbitMqManagementUrl)."),
            await services.Workers.ListAsync(),
            await services.Uploads.CountsAsync(cancellationToken),
            await services.Uploads.LatestAsync(null, 30, cancellationToken),
            await services.Uploads.ThroughputAsync(cancellationToken));
    }

    private static ProblemHttpResult NoOperator() => Problem(StatusCodes.Status503ServiceUnavailable,
        $"No operator broker user is configured (ConnectionStrings:{OperationsOptions.OperatorConnectionName}): the error queues cannot be touched.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(statusCode: status, detail: detail);
}
