using MassTransit;
using Reference.Contracts;
using Reference.ImageWorker.Pipeline;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Makes the WebP copies of an upload's variants once it is Ready (on <see cref="ImageProcessed"/>, so the upload
/// never waits for them). It publishes nothing: whatever happens here, the upload stays Ready and its JPEG/PNG
/// variants are served. Bad bytes are logged and dropped; other errors are retried, then parked in
/// <c>image-webp_error</c> for the jobs console.
/// </summary>
public sealed class WebpCopiesConsumer(WebpCopies copies, ILogger<WebpCopiesConsumer> logger) : IConsumer<ImageProcessed>
{
    public async Task Consume(ConsumeContext<ImageProcessed> context)
    {
        var message = context.Message;
        try
        {
            var pass = await copies.WriteAsync(message.Variants, context.CancellationToken);
            if (pass.Deleted)
            {
                logger.LogInformation("Upload {UploadId} was deleted during its WebP pass; {Count} copies made before.", message.UploadId, pass.Written);
            }
            else if (pass.Written > 0)
            {
                logger.LogInformation("Upload {UploadId}: {Count} WebP copies in {Milliseconds:0} ms, {WebpBytes} bytes from {VariantBytes}.",
                    message.UploadId, pass.Written, pass.Elapsed.TotalMilliseconds, pass.WebpBytes, pass.VariantBytes);
            }
        }
        catch (UnprocessableImageException e)
        {
            logger.LogWarning(e, "Upload {UploadId} gets no WebP copies: a stored variant cannot be read. Its variants are served as they are.",
                message.UploadId);
        }
    }
}
