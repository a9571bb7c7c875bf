using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using MySqlConnector;
using Reference.Contracts;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;
using Reference.UploadApi.StatusFeed;
using Reference.UploadApi.Storage;

namespace Reference.UploadApi.Apis;

public static class UploadsApi
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";
    private const int MaxIdempotencyKeyLength = 200;

    // Room for the multipart boundaries, part headers and the productId field around the file.
    private const long FormOverheadBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapUploadsApi(this IEndpointRouteBuilder app)
    {
        // The uploader is the admin: their uploads, statuses and streams are nobody else's business.
        var api = app.MapGroup("/api/uploads").RequireAdminKey();
        api.MapPost("", CreateUpload);
        api.MapGet("", ListUploads);
        api.MapGet("/{id:guid}", GetUpload);
        api.MapGet("/{id:guid}/events", StreamEvents);
        return app;
    }

    /// <summary>
    /// Streams the file to storage (never buffering it), checks it, records the upload and
    /// publishes the job. Every refusal happens before the row exists.
    /// </summary>
    public static async Task<Results<Accepted<UploadAccepted>, ProblemHttpResult>> CreateUpload(
        HttpRequest request, [AsParameters] UploadServices services, CancellationToken cancellationToken)
    {
        var limits = services.Options.Value;
        var idempotencyKey = request.Headers[IdempotencyKeyHeader].ToString();
        if (idempotencyKey.Length > MaxIdempotencyKeyLength)
        {
            return BadRequest($"{IdempotencyKeyHeader} must be at most {MaxIdempotencyKeyLength} characters.");
        }

        if (request.ContentLength == 0 || (request.ContentLength is null && string.IsNullOrEmpty(request.ContentType)))
        {
            return BadRequest("The request has no body. Send the image as the multipart/form-data field 'file'.");
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Send the image as the multipart/form-data field 'file'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return BadRequest("The multipart/form-data body has no boundary.");
        }

        var maxBodyBytes = limits.MaxBytes + FormOverheadBytes;
        if (request.ContentLength > maxBodyBytes)
        {
            return TooLarge(limits);
        }

        // Kestrel then stops a chunked body that runs past the limit, too.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxBodyBytes;
        }

        var uploadId = Guid.CreateVersion7();
        ReceivedOriginal? original = null;
        string? originalKey = null;
        try
        {
            var form = await ReadFormAsync(request, boundary, uploadId, services, limits, cancellationToken);
            original = form.File;
            if (form.Error is not null)
            {
                return form.Error;
            }

            if (original is null)
            {
                return BadRequest("The multipart/form-data field 'file' is missing.");
            }

            Guid? productId = null;
            if (!string.IsNullOrWhiteSpace(form.ProductId))
            {
                if (!Guid.TryParse(form.ProductId, out var parsed))
                {
                    return BadRequest("productId must be a GUID.");
                }

                productId = parsed;
            }

            var header = await ImageHeader.ReadAsync(original.TemporaryPath!, cancellationToken);
            if (header.Problem is not null)
            {
                return Problem(StatusCodes.Status422UnprocessableEntity, header.Problem);
            }

            if (header.Width > limits.MaxSide || header.Height > limits.MaxSide || (long)header.Width * header.Height > limits.MaxPixels)
            {
                return Problem(StatusCodes.Status422UnprocessableEntity,
                    $"The image is {header.Width}×{header.Height} pixels; the limit is {limits.MaxSide} px on a side " +
                    $"and {limits.MaxPixels / 1_000_000} megapixels.");
            }

            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{original.Sha256}|{productId}")));
            var key = idempotencyKey.Length > 0 ? idempotencyKey : null;
            if (key is not null && await FindByIdempotencyKeyAsync(services.Db, key, cancellationToken) is { } earlier)
            {
                return Replay(earlier, fingerprint);
            }

            originalKey = services.Store.Keep(uploadId, original);
            var now = services.Clock.GetUtcNow().UtcDateTime;
            var upload = new Upload
            {
                Id = uploadId,
                ProductId = productId,
                Status = UploadStatus.Pending,
                Attempts = 1,
                Sha256 = original.Sha256!,
                OriginalKey = originalKey,
                ContentType = original.Format!.ContentType,
                Width = header.Width,
                Height = header.Height,
                IdempotencyKey = key,
                RequestFingerprint = fingerprint,
                CreatedAt = now,
                UpdatedAt = now,
                NextAttemptAt = now + services.Sweeper.Value.PendingTimeout,
            };

            // The row first: once it is committed, the sweeper publishes the job even if this
            // process dies right here.
            var (outcome, error) = await RecordAsync(services, upload);
            switch (outcome)
            {
                case RecordOutcome.KeyTaken:
                    // A concurrent retry with the same key won the insert; this file is not needed.
                    var winner = await FindByIdempotencyKeyAsync(services.Db, key!, cancellationToken);
                    return winner is null ? Problem(StatusCodes.Status409Conflict, "Retry the upload.") : Replay(winner, fingerprint);
                case RecordOutcome.Unknown:
                    // The row may exist and name the file: an orphan costs disk, a lost original
                    // breaks the promise. The client's retry with its key finds the row if it is there.
                    services.Logger.LogWarning("Upload {UploadId} may have been recorded; its original {Key} is kept", uploadId, originalKey);
                    originalKey = null;
                    ExceptionDispatchInfo.Throw(error!);
                    break;
                case RecordOutcome.NotRecorded:
                    ExceptionDispatchInfo.Throw(error!);
                    break;
            }

            originalKey = null; // recorded: the file now belongs to the upload
            await PublishFirstAttemptAsync(upload, services);
            return Accepted(upload);
        }
        finally
        {
            if (original is not null)
            {
                services.Store.Discard(original);
            }

            if (originalKey is not null)
            {
                services.Store.Delete(originalKey);
            }
        }
    }

    public static async Task<Results<Ok<UploadResponse>, ProblemHttpResult>> GetUpload(
        Guid id, UploadDbContext db, CancellationToken cancellationToken)
    {
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        return upload is null ? NotFound(id) : TypedResults.Ok(UploadResponse.From(upload));
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

    /// <summary>
    /// Decided: when the broker is down (or slow) at upload time the answer is still 202. The
    /// committed row is the promise: the attempt is handed back and the sweeper publishes the
    /// job as soon as the broker takes it. Failing the request instead would make the client
    /// retry an upload that is already stored and recorded.
    /// </summary>
    private static async Task PublishFirstAttemptAsync(Upload upload, UploadServices services)
    {
        // Not the request's token: a client that hangs up after the row is written still gets its job.
        using var timeout = new CancellationTokenSource(services.Options.Value.PublishTimeout);
        try
        {
            await services.Publish.Publish(
                new ImageUploaded(upload.Id, upload.ProductId, upload.OriginalKey, upload.ContentType, upload.Attempts),
                timeout.Token);
        }
        catch (Exception e)
        {
            services.Logger.LogWarning(e, "Publishing upload {UploadId} failed; the sweeper will publish it", upload.Id);
            await services.Transitions.GiveBackAttemptAsync(upload.Id, upload.Attempts, TimeSpan.Zero, CancellationToken.None);
        }
    }

    private enum RecordOutcome { Recorded, NotRecorded, KeyTaken, Unknown }

    /// <summary>
    /// Inserts the upload's row. An error does not prove the row is absent: an insert can commit
    /// and its answer be lost (MySQL restarting at that moment; the retrying strategy then meets
    /// its own row as a duplicate key). So after any error the row is looked for by id before the
    /// original may be given up.
    /// </summary>
    private static async Task<(RecordOutcome Outcome, Exception? Error)> RecordAsync(UploadServices services, Upload upload)
    {
        var db = services.Db;
        db.Uploads.Add(upload);
        try
        {
            // Not the request's token: a client hanging up mid-insert must not leave its outcome unknown.
            await db.SaveChangesAsync(CancellationToken.None);
            return (RecordOutcome.Recorded, null);
        }
        catch (Exception e)
        {
            db.ChangeTracker.Clear();
            try
            {
                if (await db.Uploads.AsNoTracking().AnyAsync(u => u.Id == upload.Id, CancellationToken.None))
                {
                    services.Logger.LogInformation("Upload {UploadId} was recorded although the insert reported {Error}", upload.Id, e.GetType().Name);
                    return (RecordOutcome.Recorded, null);
                }
            }
            catch (Exception check)
            {
                services.Logger.LogWarning(check, "Could not check whether upload {UploadId} was recorded", upload.Id);
                return (RecordOutcome.Unknown, e);
            }

            var keyTaken = upload.IdempotencyKey is not null
                && e is DbUpdateException { InnerException: MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry } };
            return (keyTaken ? RecordOutcome.KeyTaken : RecordOutcome.NotRecorded, e);
        }
    }

    private static async Task<Upload?> FindByIdempotencyKeyAsync(UploadDbContext db, string key, CancellationToken cancellationToken) =>
        await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.IdempotencyKey == key, cancellationToken);

    private static Results<Accepted<UploadAccepted>, ProblemHttpResult> Replay(Upload earlier, string fingerprint) =>
        earlier.RequestFingerprint == fingerprint
            ? Accepted(earlier)
            : Problem(StatusCodes.Status422UnprocessableEntity,
                $"This {IdempotencyKeyHeader} was already used for a different upload (another file or product).");

    private static Accepted<UploadAccepted> Accepted(Upload upload)
    {
        var statusUrl = $"/api/uploads/{upload.Id}";
        return TypedResults.Accepted(statusUrl, new UploadAccepted(upload.Id, upload.Status.ToString(), statusUrl));
    }

    /// <summary>
    /// Reads the multipart body section by section: the file streams straight to storage, the
    /// productId field is read as text, anything else is skipped. The client's file name is
    /// never read: every name on disk comes from the upload id.
    /// </summary>
    private static async Task<UploadForm> ReadFormAsync(
        HttpRequest request, string boundary, Guid uploadId, UploadServices services, UploadOptions limits, CancellationToken cancellationToken)
    {
        ReceivedOriginal? file = null;
        string? productId = null;
        var reader = new MultipartReader(boundary, request.Body);
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    || !disposition.DispositionType.Equals("form-data", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                switch (HeaderUtilities.RemoveQuotes(disposition.Name).Value)
                {
                    case "file" when file is not null:
                        return new UploadForm(file, productId, BadRequest("Send one file per upload."));
                    case "file":
                        file = await services.Store.ReceiveAsync(uploadId, section.Body, limits.MaxBytes, cancellationToken);
                        var refusal = file.Error switch
                        {
                            ReceiveError.Empty => BadRequest("The file is empty."),
                            ReceiveError.UnsupportedType => Problem(StatusCodes.Status415UnsupportedMediaType,
                                "The file is not a JPEG, PNG or WebP image (judged by its content, not its name or type)."),
                            ReceiveError.TooLarge => TooLarge(limits),
                            _ => null,
                        };
                        if (refusal is not null)
                        {
                            return new UploadForm(file, productId, refusal);
                        }

                        break;
                    case "productId":
                        productId = await ReadShortFieldAsync(section.Body, cancellationToken);
                        break;
                }
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return new UploadForm(file, productId, TooLarge(limits));
        }
        catch (StorageUnavailableException e)
        {
            // The detail stays in the log: it names server paths.
            services.Logger.LogError(e.InnerException, "Could not store upload {UploadId}.", uploadId);
            request.HttpContext.Response.Headers.RetryAfter = "30";
            return new UploadForm(file, productId,
                Problem(StatusCodes.Status503ServiceUnavailable, "The image storage cannot be written right now; try again shortly."));
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return new UploadForm(file, productId, BadRequest($"The multipart/form-data body is malformed: {e.Message}"));
        }

        return new UploadForm(file, productId, null);
    }

    private sealed record UploadForm(ReceivedOriginal? File, string? ProductId, ProblemHttpResult? Error);

    /// <summary>A form field, not a file: reads no more than any valid value needs (a longer one fails to parse).</summary>
    private static async Task<string> ReadShortFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[128];
        var length = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }

    private static async Task WriteAsync(HttpResponse response, string text, CancellationToken cancellationToken)
    {
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static ProblemHttpResult TooLarge(UploadOptions limits) =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The file is larger than {limits.MaxBytes:N0} bytes.");

    private static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, detail);

    private static ProblemHttpResult NotFound(Guid id) => Problem(StatusCodes.Status404NotFound, $"There is no upload {id}.");

    private static ProblemHttpResult Problem(int status, string detail) =>
        TypedResults.Problem(statusCode: status, detail: detail);
}

public sealed record UploadServices(
    UploadDbContext Db,
    OriginalStore Store,
    UploadTransitions Transitions,
    IPublishEndpoint Publish,
    IOptions<UploadOptions> Options,
    IOptions<SweeperOptions> Sweeper,
    TimeProvider Clock,
    ILogger<UploadServices> Logger);

public sealed record UploadAccepted(Guid Id, string Status, string StatusUrl);

public sealed record UploadResponse(
    Guid Id,
    Guid? ProductId,
    string Status,
    string? Reason,
    int Attempts,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    IReadOnlyList<UploadVariantResponse> Variants)
{
    public static UploadResponse From(Upload upload) => new(
        upload.Id, upload.ProductId, upload.Status.ToString(), upload.Reason, upload.Attempts, upload.CreatedAt, upload.UpdatedAt,
        upload.Variants.Select(v => new UploadVariantResponse(v.Name, v.Width, v.Height, v.Format, v.Bytes, "/images/" + v.Key)).ToList());
}

public sealed record UploadVariantResponse(string Name, int Width, int Height, string Format, long Bytes, string Url);
