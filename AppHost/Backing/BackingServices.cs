using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;

namespace Reference.AppHost.Backing;

/// <summary>MySQL, Redis and RabbitMQ as the services see them, whichever mode runs them.</summary>
public sealed record BackingServices(
    BackingMode Mode,
    IResourceBuilder<IResourceWithConnectionString> InventoryDb,
    IResourceBuilder<IResourceWithConnectionString> UploadDb,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<IResourceWithConnectionString> Messaging,
    string MySqlServerVersion);

/// <summary>
/// The backing-service modes in one place. Both modes give the services the same
/// <c>ConnectionStrings__mysql/inventorydb/uploaddb/cache/messaging</c>; only how the servers run differs.
/// </summary>
public static class BackingServicesExtensions
{
    public const string ModeKey = "Backing:Mode";
    public const string DataDirectoryKey = "Backing:DataDirectory";

    public static BackingServices AddBackingServices(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetValue(ModeKey, BackingMode.Auto);
        var mode = BackingModeResolver.ForThisMachine().Resolve(configured);

        // Generated on first run and kept in the AppHost's user secrets; set them with
        // Parameters__mysql-password=... (environment) or `dotnet user-secrets`.
        var mysqlPassword = Secret(builder, "mysql-password");
        var cachePassword = Secret(builder, "cache-password");
        var messagingUser = builder.AddParameter("messaging-user", "storefront");
        var messagingPassword = Secret(builder, "messaging-password");

        return mode == BackingMode.Local
            ? AddLocal(builder, mysqlPassword, cachePassword, messagingUser, messagingPassword)
            : AddContainers(builder, mysqlPassword, cachePassword, messagingUser, messagingPassword);
    }

    /// <summary>What a service needs to know of the backing servers beyond its connection strings.</summary>
    public static IResourceBuilder<ProjectResource> WithBacking(this IResourceBuilder<ProjectResource> project, BackingServices backing) =>
        project.WithEnvironment("MySql__ServerVersion", backing.MySqlServerVersion);

    /// <summary>RabbitMQ's management API (both modes enable it), for the jobs console's queue figures.</summary>
    public static EndpointReference MessagingManagement(this BackingServices backing) =>
        ((IResourceWithEndpoints)backing.Messaging.Resource).GetEndpoint("management");

    /// <summary>Where local mode keeps its data: <c>.data/</c> at the repository root unless configured.</summary>
    public static string DataDirectory(this IDistributedApplicationBuilder builder) =>
        Path.GetFullPath(builder.Configuration[DataDirectoryKey] ?? Path.Combine(builder.AppHostDirectory, "..", ".data"));

    private static IResourceBuilder<ParameterResource> Secret(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    private static BackingServices AddLocal(
        IDistributedApplicationBuilder builder,
        IResourceBuilder<ParameterResource> mysqlPassword,
        IResourceBuilder<ParameterResource> cachePassword,
        IResourceBuilder<ParameterResource> messagingUser,
        IResourceBuilder<ParameterResource> messagingPassword)
    {
        var data = builder.DataDirectory();
        var scripts = Path.Combine(builder.AppHostDirectory, "LocalServers");

        var mysql = AddLocalServer(builder, "mysql", endpoint => ReferenceExpression.Create(
                $"Server=127.0.0.1;Port={endpoint.Property(EndpointProperty.Port)};User ID=root;Password={mysqlPassword.Resource}"))
            .WithArgs(context =>
            {
                context.Args.Add(Path.Combine(scripts, "mariadb.sh"));
                context.Args.Add(Path.Combine(data, "mysql"));
                context.Args.Add(context.Resource.PrimaryPort());
            })
            .WithEnvironment("MYSQL_ROOT_PASSWORD", mysqlPassword);
        mysql.WithHealthCheck(BackingHealthChecks.AddMySql(builder, mysql.Resource));

        var cache = AddLocalServer(builder, "cache", endpoint => ReferenceExpression.Create(
                $"127.0.0.1:{endpoint.Property(EndpointProperty.Port)},password={cachePassword.Resource}"))
            .WithArgs(context =>
            {
                context.Args.Add(Path.Combine(scripts, "redis.sh"));
                context.Args.Add(Path.Combine(data, "redis"));
                context.Args.Add(context.Resource.PrimaryPort());
            })
            .WithEnvironment("REDIS_PASSWORD", cachePassword);
        cache.WithHealthCheck(BackingHealthChecks.AddRedis(builder, cache.Resource));

        // The node name is fixed per checkout: RabbitMQ keys its database folder by it.
        var node = "messaging-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)))[..8] + "@localhost";
        var messaging = AddLocalServer(builder, "messaging", endpoint => ReferenceExpression.Create(
                $"amqp://{messagingUser.Resource}:{messagingPassword.Resource}@127.0.0.1:{endpoint.Property(EndpointProperty.Port)}"))
            .WithEndpoint(name: "dist", scheme: "tcp", isProxied: false)
            .WithHttpEndpoint(name: "management", isProxied: false)
            .WithArgs(context =>
            {
                var resource = (LocalServerResource)context.Resource;
                context.Args.Add(Path.Combine(scripts, "rabbitmq.sh"));
                context.Args.Add(Path.Combine(data, "rabbitmq"));
                context.Args.Add(node);
                context.Args.Add(resource.PrimaryPort());
                context.Args.Add(resource.GetEndpoint("dist").Property(EndpointProperty.TargetPort));
                context.Args.Add(resource.GetEndpoint("management").Property(EndpointProperty.TargetPort));
            })
            .WithEnvironment("RABBITMQ_USER", messagingUser)
            .WithEnvironment("RABBITMQ_PASSWORD", messagingPassword);
        messaging.WithHealthCheck(BackingHealthChecks.AddRabbitMq(builder, messaging.Resource));

        return new BackingServices(
            BackingMode.Local,
            AddDatabase(builder, mysql, "inventorydb"),
            AddDatabase(builder, mysql, "uploaddb"),
            cache.AsConnectionString(),
            messaging.AsConnectionString(),
            MySqlServerVersion: "10.11.0-mariadb");
    }

    private static BackingServices AddContainers(
        IDistributedApplicationBuilder builder,
        IResourceBuilder<ParameterResource> mysqlPassword,
        IResourceBuilder<ParameterResource> cachePassword,
        IResourceBuilder<ParameterResource> messagingUser,
        IResourceBuilder<ParameterResource> messagingPassword)
    {
        var mysql = builder.AddResource(new MySqlContainerResource("mysql", mysqlPassword.Resource))
            .WithImage("library/mysql", "8.4")
            .WithImageRegistry("docker.io")
            .WithEndpoint(targetPort: 3306, name: "tcp", scheme: "tcp")
            .WithEnvironment("MYSQL_ROOT_PASSWORD", mysqlPassword)
            .WithVolume("reference-mysql-data", "/var/lib/mysql")
            .WithArgs("--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1", "--max-connections=500");
        mysql.WithHealthCheck(BackingHealthChecks.AddMySql(builder, mysql.Resource));

        var cache = builder.AddRedis("cache", password: cachePassword)
            .WithImageTag("7.4")
            .WithDataVolume("reference-redis-data")
            .WithPersistence(TimeSpan.FromSeconds(10))
            // The same append-only log as local mode and the compose file.
            .WithArgs("--appendonly", "yes");

        var messaging = builder.AddRabbitMQ("messaging", messagingUser, messagingPassword)
            .WithImageTag("3.13")
            .WithManagementPlugin()
            .WithDataVolume("reference-rabbitmq-data");

        return new BackingServices(
            BackingMode.Container,
            AddDatabase(builder, mysql, "inventorydb"),
            AddDatabase(builder, mysql, "uploaddb"),
            cache.AsConnectionString(),
            messaging.AsConnectionString(),
            MySqlServerVersion: "8.4.0-mysql");
    }

    private static IResourceBuilder<LocalServerResource> AddLocalServer(
        IDistributedApplicationBuilder builder, string name, Func<EndpointReference, ReferenceExpression> connectionString) =>
        builder.AddResource(new LocalServerResource(name, builder.AppHostDirectory, connectionString))
            // Not proxied: clients talk to the server itself, on a port chosen at start, so a
            // second checkout's servers never collide with these.
            .WithEndpoint(name: LocalServerResource.PrimaryEndpoint, scheme: "tcp", isProxied: false)
            .ExcludeFromManifest();

    private static EndpointReferenceExpression PrimaryPort(this IResource resource) =>
        ((LocalServerResource)resource).Endpoint.Property(EndpointProperty.TargetPort);

    /// <summary>Adds a database that is created (if missing) once its server answers.</summary>
    private static IResourceBuilder<IResourceWithConnectionString> AddDatabase<TServer>(
        IDistributedApplicationBuilder builder, IResourceBuilder<TServer> server, string name)
        where TServer : IResourceWithConnectionString
    {
        var database = builder.AddResource(new MySqlDatabaseResource(name, name, server.Resource));
        database.WithHealthCheck(BackingHealthChecks.AddMySql(builder, database.Resource));
        database.WithInitialState(new CustomResourceSnapshot
        {
            ResourceType = "MySqlDatabase",
            State = KnownResourceStates.Waiting,
            Properties = [new("database", name)],
        });

        builder.Eventing.Subscribe<ResourceReadyEvent>(server.Resource, async (@event, ct) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(database.Resource);
            try
            {
                var serverConnection = await server.Resource.ConnectionStringExpression.GetValueAsync(ct);
                await using var connection = new MySqlConnection(serverConnection);
                await connection.OpenAsync(ct);
                await using var command = new MySqlCommand(
                    $"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", connection);
                await command.ExecuteNonQueryAsync(ct);
                await notifications.PublishUpdateAsync(database.Resource, s => s with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                });
            }
            catch (MySqlException e)
            {
                logger.LogError(e, "Could not create database {Database}", name);
                await notifications.PublishUpdateAsync(database.Resource, s => s with { State = KnownResourceStates.FailedToStart });
            }
        });

        return database.AsConnectionString();
    }

    private static IResourceBuilder<IResourceWithConnectionString> AsConnectionString<T>(this IResourceBuilder<T> resource)
        where T : IResourceWithConnectionString =>
        resource.ApplicationBuilder.CreateResourceBuilder<IResourceWithConnectionString>(resource.Resource);
}
