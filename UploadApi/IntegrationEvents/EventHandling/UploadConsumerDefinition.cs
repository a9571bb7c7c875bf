using MassTransit;

namespace Reference.UploadApi.IntegrationEvents.EventHandling;

/// <summary>The endpoint settings every UploadApi consumer shares.</summary>
public sealed class UploadConsumerDefinition<TConsumer> : ConsumerDefinition<TConsumer>
    where TConsumer : class, IConsumer
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer, IRegistrationContext context) =>
        // Each message is one short UPDATE: a brief retry rides out a database blip or failover.
        endpoint.UseMessageRetry(retry => retry.Intervals(100, 500, 1000, 2000));
}
