using System.Runtime.ExceptionServices;
using System.Security.Cryptography;
using System.Text;
using MassTransit;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using MySqlConnector;
using Reference.Contracts;
using Reference.UploadApi.Apis;
using Reference.UploadApi.Infrastructure;
using Reference.UploadApi.Model;
using Reference.UploadApi.Storage;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.Intake;

/// <summary>
/// Takes one upload in: streams the file to storage (never buffering it), checks it, records the
/// upload and publishes the job. Every refusal happens before the row exists.
/// </summary>
public sealed class UploadIntake(
    UploadDbContext db,
    OriginalStore store,
    UploadTransitions transitions,
    IPublishEndpoint publish,
    IOptions<UploadOptions> options,
    IOptions<SweeperOptions> sweeper,
    TimeProvider clock,
    ILogger<UploadIntake> logger)
{
    public async Task<IntakeOutcome> ReceiveAsync(HttpRequest request, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var limits = options.Value;
        if (request.ContentLength == 0 || (request.ContentLength is null && string.IsNullOrEmpty(request.ContentType)))
        {
            return UploadRefusal.BadRequest("The request has no body. Send the image as the multipart/form-data field 'file'.");
        }

        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            return new UploadRefusal(StatusCodes.Status415UnsupportedMediaType, "Send the image as the multipart/form-data field 'file'.");
        }

        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            return UploadRefusal.BadRequest("The multipart/form-data body has no boundary.");
        }

        var maxBodyBytes = ImageLimits.UploadBodyBytes(limits.MaxBytes);
        if (request.ContentLength > maxBodyBytes)
        {
            return UploadRefusal.TooLarge(limits);
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
            var form = await UploadFormReader.ReadAsync(request, boundary, uploadId, store, limits, logger, cancellationToken);
            original = form.File;
            if (form.Refusal is not null)
            {
                return form.Refusal;
            }

            if (original is null)
            {
                return UploadRefusal.BadRequest("The multipart/form-data field 'file' is missing.");
            }

            Guid? productId = null;
            if (!string.IsNullOrWhiteSpace(form.ProductId))
            {
                if (!Guid.TryParse(form.ProductId, out var parsed))
                {
                    return UploadRefusal.BadRequest("productId must be a GUID.");
                }

                productId = parsed;
            }

            var header = await ImageHeader.ReadAsync(original.TemporaryPath!, cancellationToken);
            if (header.Problem is not null)
            {
                return new UploadRefusal(StatusCodes.Status422UnprocessableEntity, header.Problem);
            }

            if (header.Width > limits.MaxSide || header.Height > limits.MaxSide || (long)header.Width * header.Height > limits.MaxPixels)
            {
                return new UploadRefusal(StatusCodes.Status422UnprocessableEntity,
                    $"The image is {header.Width}×{header.Height} pixels; the limit is {limits.MaxSide} px on a side " +
                    $"and {limits.MaxPixels / 1_000_000} megapixels.");
            }

            var fingerprint = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{original.Sha256}|{productId}")));
            var key = string.IsNullOrEmpty(idempotencyKey) ? null : idempotencyKey;
            if (key is not null && await FindByIdempotencyKeyAsync(key, cancellationToken) is { } earlier)
            {
                return Replay(earlier, fingerprint);
            }

            originalKey = await store.KeepAsync(uploadId, original, cancellationToken);
            var now = clock.GetUtcNow();
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
                NextAttemptAt = now + sweeper.Value.PendingTimeout,
            };

            // The row first: once it is committed, the sweeper publishes the job even if this
            // process dies right here.
            var (outcome, error) = await RecordAsync(upload);
            switch (outcome)
            {
                case RecordOutcome.KeyTaken:
                    // A concurrent retry with the same key won the insert; this file is not needed.
                    var winner = await FindByIdempotencyKeyAsync(key!, cancellationToken);
                    return winner is null ? new UploadRefusal(StatusCodes.Status409Conflict, "Retry the upload.") : Replay(winner, fingerprint);
                case RecordOutcome.Unknown:
                    // The row may exist and name the file: an orphan costs disk, a lost original
                    // breaks the promise. The client's retry with its key finds the row if it is there.
                    logger.LogWarning("Upload {UploadId} may have been recorded; its original {Key} is kept", uploadId, originalKey);
                    originalKey = null;
                    ExceptionDispatchInfo.Throw(error!);
                    break;
                case RecordOutcome.NotRecorded:
                    ExceptionDispatchInfo.Throw(error!);
                    break;
            }

            originalKey = null; // recorded: the file now belongs to the upload
            await PublishFirstAttemptAsync(upload);
            return upload;
        }
        finally
        {
            if (original is not null)
            {
                store.Discard(original);
            }

            if (originalKey is not null)
            {
                await store.DeleteAsync(originalKey);
            }
        }
    }

    /// <summary>
    /// With the broker down (or slow) the answer is still 202: the committed row is the promise,
    /// so the attempt is handed back and the sweeper publishes the job once the broker takes it.
    /// </summary>
    private async Task PublishFirstAttemptAsync(Upload upload)
    {
        // Not the request's token: a client that hangs up after the row is written still gets its job.
        using var timeout = new CancellationTokenSource(options.Value.PublishTimeout);
        try
        {
            await publish.Publish(
                new ImageUploaded(upload.Id, upload.ProductId, upload.OriginalKey, upload.ContentType, upload.Attempts),
                timeout.Token);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Publishing upload {UploadId} failed; the sweeper will publish it", upload.Id);
            await transitions.GiveBackAttemptAsync(upload.Id, upload.Attempts, TimeSpan.Zero, CancellationToken.None);
        }
    }

    private enum RecordOutcome { Recorded, NotRecorded, KeyTaken, Unknown }

    /// <summary>
    /// Inserts the upload's row. An insert can commit and its answer be lost (MySQL restarting),
    /// so after any error the row is looked for by id before the original may be given up.
    /// </summary>
    private async Task<(RecordOutcome Outcome, Exception? Error)> RecordAsync(Upload upload)
    {
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
                    logger.LogInformation("Upload {UploadId} was recorded although the insert reported {Error}", upload.Id, e.GetType().Name);
                    return (RecordOutcome.Recorded, null);
                }
            }
            catch (Exception check)
            {
                logger.LogWarning(check, "Could not check whether upload {UploadId} was recorded", upload.Id);
                return (RecordOutcome.Unknown, e);
            }

            var keyTaken = upload.IdempotencyKey is not null
                && e is DbUpdateException { InnerException: MySqlException { ErrorCode: MySqlErrorCode.DuplicateKeyEntry } };
            return (keyTaken ? RecordOutcome.KeyTaken : RecordOutcome.NotRecorded, e);
        }
    }

    private async Task<Upload?> FindByIdempotencyKeyAsync(string key, CancellationToken cancellationToken) =>
        await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.IdempotencyKey == key, cancellationToken);

    private static IntakeOutcome Replay(Upload earlier, string fingerprint) =>
        earlier.RequestFingerprint == fingerprint
            ? earlier
            : new UploadRefusal(StatusCodes.Status422UnprocessableEntity,
                $"This {UploadsApi.IdempotencyKeyHeader} was already used for a different upload (another file or product).");
}
