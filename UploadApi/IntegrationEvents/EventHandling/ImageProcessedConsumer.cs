using MassTransit;
using Reference.Contracts;
using Reference.UploadApi.Model;
using Reference.UploadApi.Uploads;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>Ready with its variants; a repeat, or a result after Failed, changes nothing.</summary>
public sealed class ImageProcessedConsumer(UploadTransitions transitions) : IConsumer<ImageProcessed>
{
    public Task Consume(ConsumeContext<ImageProcessed> context)
    {
        var variants = context.Message.Variants
            .Select(v => new UploadVariant(v.Name, v.Width, v.Height, v.Format, v.Bytes, v.Key))
            .ToList();
        return transitions.MarkReadyAsync(context.Message.UploadId, variants, context.CancellationToken);
    }
}
