using MassTransit;
using Reference.Contracts;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>A permanent failure the worker recognised (corrupt or unsupported image).</summary>
public sealed class ImageProcessingFailedConsumer(UploadTransitions transitions) : IConsumer<ImageProcessingFailed>
{
    public Task Consume(ConsumeContext<ImageProcessingFailed> context) =>
        transitions.MarkFailedAsync(context.Message.UploadId, context.Message.Reason, context.CancellationToken);
}
