using System.Diagnostics;
using MassTransit;
using Reference.Contracts;
using Reference.ImageWorker.Operations;
using Reference.ImageWorker.Pipeline;

namespace Reference.ImageWorker.Consumers;

/// <summary>
/// Makes the WebP copies of an upload's variants once it is Ready (on <see cref="ImageProcessed"/>, so the upload
/// never waits for them). It publishes nothing: whatever happens here, the upload stays Ready and its JPEG/PNG
/// variants are served. Bad bytes are logged and dropped; other errors are retried, then parked in
/// <c>image-webp_error</c> for the jobs console.
/// </summary>
public sealed class WebpCopiesConsumer(WebpCopies copies, WorkerJobs jobs, ILogger<WebpCopiesConsumer> logger) : IConsumer<ImageProcessed>
{
    /// <summary>The longest a pass waits for a free core; past it, it runs beside the uploads anyway.</summary>
    public static readonly TimeSpan MostYielded = TimeSpan.FromSeconds(30);

    public async Task Consume(ConsumeContext<ImageProcessed> context)
    {
        var message = context.Message;
        // Uploads first: while this process holds a job for every core, the pass waits, so a burst of uploads
        // keeps all the CPU and the copies catch up after it.
        var waited = Stopwatch.StartNew();
        while (jobs.Count >= ImageUploadedConsumerDefinition.ConcurrentJobs && waited.Elapsed < MostYielded)
        {
            await Task.Delay(50, context.CancellationToken);
        }

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
