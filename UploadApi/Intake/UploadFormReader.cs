using Reference.Storage;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Reference.UploadApi.Storage;

namespace Reference.UploadApi.Intake;

/// <summary>
/// Reads the multipart body section by section: the file streams straight to storage, the
/// productId field is read as text, anything else is skipped. The client's file name is
/// never read: every name on disk comes from the upload id.
/// </summary>
internal static class UploadFormReader
{
    public static async Task<UploadForm> ReadAsync(
        HttpRequest request, string boundary, Guid uploadId, OriginalStore store, UploadOptions limits, ILogger logger,
        CancellationToken cancellationToken)
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
                        return new UploadForm(file, productId, UploadRefusal.BadRequest("Send one file per upload."));
                    case "file":
                        file = await store.ReceiveAsync(uploadId, section.Body, limits.MaxBytes, cancellationToken);
                        var refusal = file.Error switch
                        {
                            ReceiveError.Empty => UploadRefusal.BadRequest("The file is empty."),
                            ReceiveError.UnsupportedType => new UploadRefusal(StatusCodes.Status415UnsupportedMediaType,
                                "The file is not a JPEG, PNG or WebP image (judged by its content, not its name or type)."),
                            ReceiveError.TooLarge => UploadRefusal.TooLarge(limits),
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
            return new UploadForm(file, productId, UploadRefusal.TooLarge(limits));
        }
        catch (StorageUnavailableException e)
        {
            // The detail stays in the log: it names server paths.
            logger.LogError(e.InnerException, "Could not store upload {UploadId}.", uploadId);
            return new UploadForm(file, productId, new UploadRefusal(StatusCodes.Status503ServiceUnavailable,
                "The image storage cannot be written right now; try again shortly.", RetryAfterSeconds: 30));
        }
        catch (Exception e) when (e is InvalidDataException or IOException && !cancellationToken.IsCancellationRequested)
        {
            return new UploadForm(file, productId, UploadRefusal.BadRequest($"The multipart/form-data body is malformed: {e.Message}"));
        }

        return new UploadForm(file, productId, null);
    }

    /// <summary>A form field, not a file: reads no more than any valid value needs (a longer one fails to parse).</summary>
    private static async Task<string> ReadShortFieldAsync(Stream body, CancellationToken cancellationToken)
    {
        var buffer = new byte[128];
        var length = await body.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, length).Trim();
    }
}

internal sealed record UploadForm(ReceivedOriginal? File, string? ProductId, UploadRefusal? Refusal);
