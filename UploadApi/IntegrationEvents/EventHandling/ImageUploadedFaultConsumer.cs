using MassTransit;
using Reference.Contracts;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>
/// The worker gave up on a job after its retries (the message went to its <c>_error</c> queue):
/// the upload fails with the worker's exception as the reason.
/// </summary>
public sealed class ImageUploadedFaultConsumer(UploadTransitions transitions) : IConsumer<Fault<ImageUploaded>>
{
    public Task Consume(ConsumeContext<Fault<ImageUploaded>> context)
    {
        var exception = context.Message.Exceptions.FirstOrDefault();
        var reason = exception is null
            ? "Processing failed after retries."
            : $"Processing failed after retries: {exception.Message}";
        return transitions.MarkFailedAsync(context.Message.Message.UploadId, reason, context.CancellationToken);
    }
}
