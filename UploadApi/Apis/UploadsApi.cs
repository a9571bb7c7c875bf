using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Intake;
using Reference.UploadApi.Model;
using Reference.UploadApi.Operations;
using Reference.UploadApi.StatusFeed;

namespace Reference.UploadApi.Apis;

public static class UploadsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 200;

    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        // The uploader is the admin: their uploads, statuses and streams are nobody else's business.
        var api = app.MapGroup("/api/uploads").RequireAdminKey();
        api.MapPost("", CreateUpload);
        api.MapGet("", ListUploads);
        api.MapGet("/{id:guid}", GetUpload);
        api.MapGet("/{id:guid}/events", StreamEvents);
        api.MapPost("/{id:guid}/retry", RetryUpload);
        return app;
    }

    /// <summary>A Failed upload whose original is intact goes back to Pending and is processed again (see <see cref="UploadRetries"/>).</summary>
    public static async Task<Results<Accepted<UploadAccepted>, ProblemHttpResult>> RetryUpload(
        Guid id, UploadRetries retries, CancellationToken cancellationToken)
    {
        var outcome = await retries.RetryAsync(id, cancellationToken);
        if (!outcome.Found)
        {
            return NotFound(id);
        }

        if (outcome.Refusal is { } reason)
        {
            return Problem(StatusCodes.Status409Conflict, reason);
        }

        var statusUrl = $"/api/uploads/{id}";
        return TypedResults.Accepted(statusUrl, new UploadAccepted(id, nameof(UploadStatus.Pending), statusUrl));
    }

    public static async Task<Results<Accepted<UploadAccepted>, ProblemHttpResult>> CreateUpload(
        HttpRequest request, UploadIntake intake, CancellationToken cancellationToken)
    {
        var idempotencyKey = request.Headers[IdempotencyKeyHeader].ToString();
        if (idempotencyKey.Length > MaxIdempotencyKeyLength)
        {
            return BadRequest($"{IdempotencyKeyHeader} must be at most {MaxIdempotencyKeyLength} characters.");
        }

        var outcome = await intake.ReceiveAsync(request, idempotencyKey, cancellationToken);
        if (outcome.Refusal is { } refusal)
        {
            if (refusal.RetryAfterSeconds is { } seconds)
            {
                request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return Problem(refusal.Status, refusal.Detail);
        }

        var upload = outcome.Accepted!;
        var statusUrl = $"/api/uploads/{upload.Id}";
        return TypedResults.Accepted(statusUrl, new UploadAccepted(upload.Id, upload.Status.ToString(), statusUrl));
    }

    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult>> GetUpload(
        Guid id, UploadStatusCache statuses, HttpContext context, CancellationToken cancellationToken)
    {
        // The context is resolved on a cache miss only: most polls are answered from memory without renting one from the pool.
        var upload = await statuses.GetAsync(id, async ct =>
            await context.RequestServices.GetRequiredService<UploadDbContext>().Uploads.AsNoTracking()
                .FirstOrDefaultAsync(u => u.Id == id, ct) is { } row ? UploadResponse.From(row) : null,
            cancellationToken);
        return upload is null ? NotFound(id) : TypedResults.Ok(upload);
    }

    public static async Task<Results<Ok<List<UploadResponse>>, ProblemHttpResult>> ListUploads(
        string? productId, UploadDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(productId, out var product))
        {
            return BadRequest("Give the product as ?productId={guid}.");
        }

        var uploads = await db.Uploads.AsNoTracking()
            .Where(u => u.ProductId == product)
            .OrderByDescending(u => u.CreatedAt)
            .Take(200)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(uploads.Select(UploadResponse.From).ToList());
    }

    /// <summary>
    /// Server-Sent Events: the current state first, then each change, until Ready or Failed.
    /// Changes made on any replica arrive through <see cref="UploadStatusFeed"/>; a keep-alive
    /// comment goes out when nothing changed for a while, and the row is re-read then too.
    /// </summary>
    public static async Task StreamEvents(
        Guid id, HttpContext http, UploadDbContext db, UploadStatusFeed feed, IOptions<UploadOptions> options,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        using var lifetime = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        lifetime.CancelAfter(options.Value.EventsMaxLifetime);
        var cancellationToken = lifetime.Token;
        // Watch before the first read, so a change between the two is not missed.
        using var watch = feed.Watch(id);
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (upload is null)
        {
            await NotFound(id).ExecuteAsync(http);
            return;
        }

        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        try
        {
            var sent = JsonSerializer.Serialize(UploadResponse.From(upload), json.Value.SerializerOptions);
            await WriteAsync(http.Response, $"event: status\ndata: {sent}\n\n", cancellationToken);
            while (upload.Status is UploadStatus.Pending or UploadStatus.Processing)
            {
                var changed = await watch.WaitAsync(options.Value.EventsKeepAlive, cancellationToken);
                upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
                if (upload is null)
                {
                    return;
                }

                var current = JsonSerializer.Serialize(UploadResponse.From(upload), json.Value.SerializerOptions);
                if (current != sent)
                {
                    await WriteAsync(http.Response, $"event: status\ndata: {current}\n\n", cancellationToken);
                    sent = current;
                }
                else if (!changed)
                {
                    await WriteAsync(http.Response, ": keep-alive\n\n", cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away, or the stream reached its maximum lifetime.
        }
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, detail);

    private static ProblemHttpResult NotFound(Guid id) => Problem(StatusCodes.Status404NotFound, $"There is no upload {id}.");

    private static ProblemHttpResult Problem(int status, string detail) =>
        TypedResults.Problem(statusCode: status, detail: detail);
}
