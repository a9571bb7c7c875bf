using MassTransit;

namespace Reference.InventoryApi.IntegrationEvents.EventHandling;

public sealed class ImageProcessedConsumerDefinition : ConsumerDefinition<ImageProcessedConsumer>
{
    public ImageProcessedConsumerDefinition()
    {
        ConcurrentMessageLimit = 8;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ImageProcessedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // MySQL restarting or a lock wait: worth a few tries before the message goes to the error queue.
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(200, 1000, 5000, 15000));
    }
}
