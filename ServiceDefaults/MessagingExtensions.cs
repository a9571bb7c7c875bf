using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.Hosting;

/// <summary>MassTransit over RabbitMQ from the <c>messaging</c> connection string.</summary>
public static class MessagingExtensions
{
    public const string ConnectionName = "messaging";

    /// <param name="configure">Registers the service's consumers; endpoints are configured from their definitions.</param>
    public static IHostApplicationBuilder AddMessaging(
        this IHostApplicationBuilder builder,
        Action<IBusRegistrationConfigurator>? configure = null,
        Action<IBusRegistrationContext, IRabbitMqBusFactoryConfigurator>? configureBus = null)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} is not set. Run the service from the AppHost, or set ConnectionStrings__{ConnectionName}.");

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(new Uri(connectionString));
                configureBus?.Invoke(context, rabbit);
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }
}
