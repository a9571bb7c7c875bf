using Microsoft.Extensions.DependencyInjection;

namespace Reference.AppHost.Backing;

/// <summary>Each service's own users on the three servers, whichever mode runs them.</summary>
public static partial class BackingServiceSetup
{
    private static IResourceBuilder<T> WithCacheUsers<T>(this IResourceBuilder<T> cache, Passwords passwords)
        where T : IResourceWithEnvironment
    {
        cache.WithEnvironment("REDIS_PASSWORD", passwords.CacheAdmin);
        foreach (var (service, password) in passwords.Cache)
        {
            cache.WithEnvironment($"REDIS_{service.ToUpperInvariant()}_PASSWORD", password);
        }

        return cache;
    }

    private static IResourceBuilder<T> WithMessagingUsers<T>(this IResourceBuilder<T> messaging, Passwords passwords)
        where T : IResourceWithEnvironment
    {
        messaging
            .WithEnvironment("RABBITMQ_USER", passwords.MessagingUser)
            .WithEnvironment("RABBITMQ_PASSWORD", passwords.MessagingAdmin)
            .WithEnvironment("RABBITMQ_MONITOR_PASSWORD", passwords.MessagingMonitor)
            .WithEnvironment("RABBITMQ_OPERATOR_PASSWORD", passwords.MessagingOperator);
        foreach (var (service, password) in passwords.Messaging)
        {
            messaging.WithEnvironment($"RABBITMQ_{service.ToUpperInvariant()}_PASSWORD", password);
        }

        return messaging;
    }

    /// <summary>The services' own logins on the three servers, whichever mode runs them.</summary>
    private static BackingServices Logins<TMySql, TCache, TMessaging>(
        IDistributedApplicationBuilder builder, BackingMode mode, Passwords passwords,
        IResourceBuilder<TMySql> mysql, IResourceBuilder<TCache> cache, IResourceBuilder<TMessaging> messaging,
        EndpointReference mysqlEndpoint, EndpointReference cacheEndpoint, EndpointReference messagingEndpoint, EndpointReference management,
        string mySqlServerVersion)
        where TMySql : IResourceWithConnectionString
        where TCache : IResourceWithConnectionString
        where TMessaging : IResourceWithConnectionString
    {
        var mysqlHost = mysqlEndpoint.Property(EndpointProperty.Host);
        var mysqlPort = mysqlEndpoint.Property(EndpointProperty.Port);
        var inventoryDb = AddLogin(builder, mysql.Resource, "inventorydb", ReferenceExpression.Create(
            $"Server={mysqlHost};Port={mysqlPort};User ID=inventoryapi;Password={passwords.InventoryDb.Resource};Database=inventorydb"), BackingHealthChecks.AddMySql);
        var uploadDb = AddLogin(builder, mysql.Resource, "uploaddb", ReferenceExpression.Create(
            $"Server={mysqlHost};Port={mysqlPort};User ID=uploadapi;Password={passwords.UploadDb.Resource};Database=uploaddb"), BackingHealthChecks.AddMySql);

        var logins = Services.ToDictionary(service => service, service => new ServiceLogins(
            AddLogin(builder, cache.Resource, $"cache-{service}", ReferenceExpression.Create(
                $"{cacheEndpoint.Property(EndpointProperty.Host)}:{cacheEndpoint.Property(EndpointProperty.Port)},user={service},password={passwords.Cache[service].Resource}"),
                BackingHealthChecks.AddRedis),
            AddLogin(builder, messaging.Resource, $"messaging-{service}", ReferenceExpression.Create(
                $"amqp://{service}:{passwords.Messaging[service].Resource}@{messagingEndpoint.Property(EndpointProperty.Host)}:{messagingEndpoint.Property(EndpointProperty.Port)}"),
                BackingHealthChecks.AddRabbitMq)));

        // The management API as `monitor` (tag monitoring, no rights on any queue or exchange).
        var monitor = AddLogin(builder, messaging.Resource, "messaging-monitor", ReferenceExpression.Create(
            $"http://monitor:{passwords.MessagingMonitor.Resource}@{management.Property(EndpointProperty.Host)}:{management.Property(EndpointProperty.Port)}/"),
            healthCheck: null);
        // The jobs console's error-queue actions as `operator` (read on _error queues, write on the default exchange only).
        var @operator = AddLogin(builder, messaging.Resource, "messaging-operator", ReferenceExpression.Create(
            $"amqp://operator:{passwords.MessagingOperator.Resource}@{messagingEndpoint.Property(EndpointProperty.Host)}:{messagingEndpoint.Property(EndpointProperty.Port)}"),
            BackingHealthChecks.AddRabbitMq);

        return new BackingServices(mode, mysql.AsConnectionString(), inventoryDb, uploadDb, cache.AsConnectionString(), messaging.AsConnectionString(),
            monitor, @operator, logins, mySqlServerVersion);
    }

    /// <summary>
    /// A service's login on <paramref name="server"/>: Running once the server is ready, healthy once the
    /// login works (the database's set-up may still have to create it).
    /// </summary>
    private static IResourceBuilder<IResourceWithConnectionString> AddLogin(
        IDistributedApplicationBuilder builder, IResourceWithConnectionString server, string name, ReferenceExpression connectionString,
        Func<IDistributedApplicationBuilder, IResourceWithConnectionString, string>? healthCheck)
    {
        var login = builder.AddResource(new ServiceLoginResource(name, server, connectionString));
        if (healthCheck is not null)
        {
            login.WithHealthCheck(healthCheck(builder, login.Resource));
        }

        login.WithInitialState(new CustomResourceSnapshot
        {
            ResourceType = "Login",
            State = KnownResourceStates.Waiting,
            Properties = [],
        });
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, ct) =>
            await @event.Services.GetRequiredService<ResourceNotificationService>().PublishUpdateAsync(login.Resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = s.StartTimeStamp ?? DateTime.UtcNow,
            }));
        return login.AsConnectionString();
    }

    private static IResourceBuilder<IResourceWithConnectionString> AsConnectionString<T>(this IResourceBuilder<T> resource)
        where T : IResourceWithConnectionString =>
        resource.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(resource.Resource);
}
