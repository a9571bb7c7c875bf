namespace Reference.AppHost.Backing;

/// <summary>Container mode: the official images, set up by the same scripts.</summary>
public static partial class BackingServiceSetup
{
    private static BackingServices AddContainers(IDistributedApplicationBuilder builder, Passwords passwords)
    {
        // The official images, started through the same scripts as local mode where users are set up.
        var scripts = Path.Combine(builder.AppHostDirectory, "LocalServers");
        var mysql = builder.AddResource(new BackingContainerResource("mysql", endpoint => ReferenceExpression.Create(
                $"Server={endpoint.Property(EndpointProperty.Host)};Port={endpoint.Property(EndpointProperty.Port)};User ID=root;Password={passwords.MySqlRoot.Resource}")))
            .WithImage("library/mysql", "8.4")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 3306, name: BackingContainerResource.PrimaryEndpoint, scheme: "tcp")
            .WithEnvironment("MYSQL_ROOT_PASSWORD", passwords.MySqlRoot)
            .WithVolume("reference-mysql-data", "/var/lib/mysql")
            .WithArgs("--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1", "--max-connections=500");
        mysql.WithHealthCheck(BackingHealthChecks.AddMySql(builder, mysql.Resource));

        var cache = builder.AddResource(new BackingContainerResource("cache", endpoint => ReferenceExpression.Create(
                $"{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)},password={passwords.CacheAdmin.Resource}")))
            .WithImage("library/redis", "7.4")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 6379, name: BackingContainerResource.PrimaryEndpoint, scheme: "tcp")
            .WithBindMount(scripts, "/storefront", isReadOnly: true)
            .WithEntrypoint("sh")
            // The same append-only log and memory bound as local mode and the compose file (redis.sh).
            .WithArgs("/storefront/redis.sh", "/data", "6379")
            .WithEnvironment("REDIS_BIND", "0.0.0.0")
            .WithEnvironment("REDIS_RUN_AS", "redis")
            .WithCacheUsers(passwords)
            .WithVolume("reference-redis-data", "/data");
        cache.WithHealthCheck(BackingHealthChecks.AddRedis(builder, cache.Resource));

        var messaging = builder.AddResource(new BackingContainerResource("messaging", endpoint => ReferenceExpression.Create(
                $"amqp://{passwords.MessagingUser.Resource}:{passwords.MessagingAdmin.Resource}@{endpoint.Property(EndpointProperty.Host)}:{endpoint.Property(EndpointProperty.Port)}")))
            .WithImage("library/rabbitmq", "3.13-management")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 5672, name: BackingContainerResource.PrimaryEndpoint, scheme: "tcp")
            .WithHttpEndpoint(targetPort: 15672, name: "management")
            .WithBindMount(scripts, "/storefront", isReadOnly: true)
            .WithEntrypoint("sh")
            .WithArgs("/storefront/rabbitmq-container.sh")
            .WithMessagingUsers(passwords)
            .WithVolume("reference-rabbitmq-data", "/var/lib/rabbitmq");
        messaging.WithHealthCheck(BackingHealthChecks.AddRabbitMq(builder, messaging.Resource));

        return Logins(builder, BackingMode.Container, passwords, mysql, cache, messaging,
            mysql.Resource.Endpoint, cache.Resource.Endpoint, messaging.Resource.Endpoint, messaging.Resource.GetEndpoint("management"),
            mySqlServerVersion: "8.4.0-mysql");
    }
}
