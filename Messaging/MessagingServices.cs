using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>MassTransit over RabbitMQ from the <c>messaging</c> connection string.</summary>
public static class MessagingServices
{
    public const string ConnectionName = "messaging";

    /// <summary>The AMQP heartbeat every service asks the broker for.</summary>
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    /// <param name="endpointPrefix">
    /// Starts the name of each of this service's queues (<c>UploadApi</c>: <c>upload-api-image-processed</c>), so two
    /// services consuming one event each get their own copy instead of competing for it.
    /// </param>
    /// <param name="configure">Registers the service's consumers; endpoints are configured from their definitions.</param>
    /// <param name="unreachableStatus">
    /// What <c>/health</c> reports while the broker does not answer: <see cref="HealthStatus.Degraded"/> for a
    /// service that keeps serving without it (uploads are recorded and published later), so it stays in rotation.
    /// </param>
    public static IHostApplicationBuilder AddMessaging(
        this IHostApplicationBuilder builder,
        string? endpointPrefix,
        Action<IBusRegistrationConfigurator>? configure = null,
        HealthStatus unreachableStatus = HealthStatus.Unhealthy)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} is not set. Run the service from the AppHost, or set ConnectionStrings__{ConnectionName}.");

        // A stop (a deploy, compose's SIGKILL after 10 s, the dashboard's Stop) must not wait on a job:
        // one still running after a few seconds is cancelled, unacknowledged, and redelivered elsewhere.
        builder.Services.Configure<MassTransitHostOptions>(host =>
        {
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(3);
            host.StopTimeout = TimeSpan.FromSeconds(6);
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter("MassTransit"))
            .WithTracing(tracing => tracing.AddSource("MassTransit"));
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(endpointPrefix ?? "", includeNamespace: false));
            bus.ConfigureHealthCheckOptions(health => health.MinimalFailureStatus = unreachableStatus);
            configure?.Invoke(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                // Named, a process's channels can be told apart on the broker (the scalers read each worker's held jobs):
                // the AppHost names each replica's telemetry after its resource (imageworker-2), the compose supervisor sets the name.
                var name = builder.Configuration["Messaging:ConnectionName"] ?? builder.Configuration["OTEL_SERVICE_NAME"];
                rabbit.Host(new Uri(connectionString), host =>
                {
                    host.ConnectionName(string.IsNullOrEmpty(name) ? builder.Environment.ApplicationName : name);
                    // A link that dies silently (a worker server's network cut) is noticed after two missed heartbeats:
                    // ~20 s instead of the broker's 60 s default (2 min), after which the client reconnects and work resumes.
                    host.Heartbeat(HeartbeatInterval);
                });
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }
}
