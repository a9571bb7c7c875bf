using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Reference.AppHost.Backing;

/// <summary>MySQL, Redis and RabbitMQ as the services see them, whichever mode runs them.</summary>
/// <param name="MySql">As root: for the databases' one-shot set-up only (<see cref="BackingServiceSetup.AddDatabaseSetup{TProject}"/>).</param>
/// <param name="InventoryDb">As InventoryApi's own user, with data rights on inventorydb only.</param>
/// <param name="UploadDb">As UploadApi's own user, with data rights on uploaddb only.</param>
/// <param name="Cache">As Redis's administrator: the AppHost's health check and operators, no service.</param>
/// <param name="Messaging">As RabbitMQ's administrator: the AppHost's health check and operators, no service.</param>
/// <param name="MessagingMonitor">The management API as the monitoring-only user, for an operations console.</param>
/// <param name="MessagingOperator">AMQP as the operator user: take from and purge the _error queues, publish through the default exchange.</param>
/// <param name="Logins">Each service's own Redis and RabbitMQ users (<see cref="ServiceLogins"/>), by service name.</param>
public sealed record BackingServices(
    BackingMode Mode,
    IResourceBuilder<IResourceWithConnectionString> MySql,
    IResourceBuilder<IResourceWithConnectionString> InventoryDb,
    IResourceBuilder<IResourceWithConnectionString> UploadDb,
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<IResourceWithConnectionString> Messaging,
    IResourceBuilder<IResourceWithConnectionString> MessagingMonitor,
    IResourceBuilder<IResourceWithConnectionString> MessagingOperator,
    IReadOnlyDictionary<string, ServiceLogins> Logins,
    string MySqlServerVersion);

/// <summary>A service's own users on Redis and RabbitMQ, limited to its keys, channels, exchanges and queues.</summary>
public sealed record ServiceLogins(
    IResourceBuilder<IResourceWithConnectionString> Cache,
    IResourceBuilder<IResourceWithConnectionString> Messaging);

/// <summary>
/// The backing-service modes in one place. Both modes give the services the same
/// <c>ConnectionStrings__inventorydb/uploaddb/cache/messaging</c>, each with the service's own user
/// (docs/security.md); only how the servers run differs.
/// </summary>
public static class BackingServiceSetup
{
    public const string ModeKey = "Backing:Mode";
    public const string DataDirectoryKey = "Backing:DataDirectory";

    /// <summary>The services with a Redis and a RabbitMQ user of their own (AppHost/LocalServers/redis.sh, rabbitmq-definitions.sh).</summary>
    public static readonly IReadOnlyList<string> Services = ["inventoryapi", "uploadapi", "imageworker"];

    public static BackingServices AddBackingServices(this IDistributedApplicationBuilder builder)
    {
        var configured = builder.Configuration.GetValue(ModeKey, BackingMode.Auto);
        var mode = BackingModeResolver.ForThisMachine().Resolve(configured);

        // Generated on first run and kept in the AppHost's user secrets; set them with
        // Parameters__mysql-password=... (environment) or `dotnet user-secrets`. The servers take
        // every password anew at each start, so changing one is a restart.
        var passwords = new Passwords(
            MySqlRoot: Secret(builder, "mysql-password"),
            CacheAdmin: Secret(builder, "cache-password"),
            MessagingUser: builder.AddParameter("messaging-user", "storefront"),
            MessagingAdmin: Secret(builder, "messaging-password"),
            MessagingMonitor: Secret(builder, "messaging-monitor-password"),
            MessagingOperator: Secret(builder, "messaging-operator-password"),
            InventoryDb: Secret(builder, "mysql-inventoryapi-password"),
            UploadDb: Secret(builder, "mysql-uploadapi-password"),
            Cache: Services.ToDictionary(s => s, s => Secret(builder, $"cache-{s}-password")),
            Messaging: Services.ToDictionary(s => s, s => Secret(builder, $"messaging-{s}-password")));

        return mode == BackingMode.Local ? AddLocal(builder, passwords) : AddContainers(builder, passwords);
    }

    /// <summary>What a service needs to know of the backing servers beyond its connection strings.</summary>
    public static IResourceBuilder<ProjectResource> WithBacking(this IResourceBuilder<ProjectResource> project, BackingServices backing) =>
        project.WithEnvironment("MySql__ServerVersion", backing.MySqlServerVersion);

    /// <summary>RabbitMQ's management API (both modes enable it), for the jobs console's queue figures.</summary>
    public static EndpointReference MessagingManagement(this BackingServices backing) =>
        ((IResourceWithEndpoints)backing.Messaging.Resource).GetEndpoint("management");

    /// <summary>The service's own Redis and RabbitMQ users, as <c>ConnectionStrings__cache</c> and <c>__messaging</c>.</summary>
    public static IResourceBuilder<ProjectResource> WithLoginsOf(this IResourceBuilder<ProjectResource> project, BackingServices backing, string service)
    {
        var logins = backing.Logins[service];
        return project
            .WithReference(logins.Cache, "cache").WaitFor(logins.Cache)
            .WithReference(logins.Messaging, "messaging").WaitFor(logins.Messaging);
    }

    /// <summary>
    /// The one-shot set-up of <paramref name="database"/>, run once per start (the service's own
    /// <c>--migrate</c> mode, MySql/DatabaseSetup.cs): as root it creates the database and the service's
    /// user with data rights only, then migrates. The service's replicas <c>WaitForCompletion</c> on it.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddDatabaseSetup<TProject>(
        this IDistributedApplicationBuilder builder, BackingServices backing, IResourceBuilder<IResourceWithConnectionString> database)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>($"{database.Resource.Name}-setup", launchProfileName: null)
            .WithArgs(DatabaseSetupArgument)
            .WithBacking(backing)
            .WithReference(backing.MySql, "mysql-admin").WaitFor(backing.MySql)
            .WithReference(database);

    // MySql/DatabaseSetup.cs's Argument (the AppHost does not reference the services' shared projects).
    private const string DatabaseSetupArgument = "--migrate";

    /// <summary>Where local mode keeps its data: <c>.data/</c> at the repository root unless configured.</summary>
    public static string DataDirectory(this IDistributedApplicationBuilder builder) =>
        Path.GetFullPath(builder.Configuration[DataDirectoryKey] ?? Path.Combine(builder.AppHostDirectory, "..", ".data"));

    private sealed record Passwords(
        IResourceBuilder<ParameterResource> MySqlRoot,
        IResourceBuilder<ParameterResource> CacheAdmin,
        IResourceBuilder<ParameterResource> MessagingUser,
        IResourceBuilder<ParameterResource> MessagingAdmin,
        IResourceBuilder<ParameterResource> MessagingMonitor,
        IResourceBuilder<ParameterResource> MessagingOperator,
        IResourceBuilder<ParameterResource> InventoryDb,
        IResourceBuilder<ParameterResource> UploadDb,
        IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> Cache,
        IReadOnlyDictionary<string, IResourceBuilder<ParameterResource>> Messaging);

    private static IResourceBuilder<ParameterResource> Secret(IDistributedApplicationBuilder builder, string name) =>
        builder.AddParameter(name, new GenerateParameterDefault { MinLength = 24, Special = false }, secret: true, persist: true);

    private static BackingServices AddLocal(IDistributedApplicationBuilder builder, Passwords passwords)
    {
        var data = builder.DataDirectory();
        var scripts = Path.Combine(builder.AppHostDirectory, "LocalServers");

        var mysql = AddLocalServer(builder, "mysql", endpoint => ReferenceExpression.Create(
                $"Server=127.0.0.1;Port={endpoint.Property(EndpointProperty.Port)};User ID=root;Password={passwords.MySqlRoot.Resource}"))
            .WithArgs(context =>
            {
                context.Args.Add(Path.Combine(scripts, "mariadb.sh"));
                context.Args.Add(Path.Combine(data, "mysql"));
                context.Args.Add(context.Resource.PrimaryPort());
            })
            .WithEnvironment("MYSQL_ROOT_PASSWORD", passwords.MySqlRoot);
        mysql.WithHealthCheck(BackingHealthChecks.AddMySql(builder, mysql.Resource));

        var cache = AddLocalServer(builder, "cache", endpoint => ReferenceExpression.Create(
                $"127.0.0.1:{endpoint.Property(EndpointProperty.Port)},password={passwords.CacheAdmin.Resource}"))
            .WithArgs(context =>
            {
                context.Args.Add(Path.Combine(scripts, "redis.sh"));
                context.Args.Add(Path.Combine(data, "redis"));
                context.Args.Add(context.Resource.PrimaryPort());
            })
            .WithCacheUsers(passwords);
        cache.WithHealthCheck(BackingHealthChecks.AddRedis(builder, cache.Resource));

        // The node name is fixed per checkout: RabbitMQ keys its database folder by it.
        var node = "messaging-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)))[..8] + "@localhost";
        var messaging = AddLocalServer(builder, "messaging", endpoint => ReferenceExpression.Create(
                $"amqp://{passwords.MessagingUser.Resource}:{passwords.MessagingAdmin.Resource}@127.0.0.1:{endpoint.Property(EndpointProperty.Port)}"))
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
            .WithMessagingUsers(passwords);
        messaging.WithHealthCheck(BackingHealthChecks.AddRabbitMq(builder, messaging.Resource));

        return Logins(builder, BackingMode.Local, passwords, mysql, cache, messaging,
            mysql.Resource.Endpoint, cache.Resource.Endpoint, messaging.Resource.Endpoint, messaging.Resource.GetEndpoint("management"),
            mySqlServerVersion: "10.11.0-mariadb");
    }

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

    private static IResourceBuilder<LocalServerResource> AddLocalServer(
        IDistributedApplicationBuilder builder, string name, Func<EndpointReference, ReferenceExpression> connectionString) =>
        builder.AddResource(new LocalServerResource(name, builder.AppHostDirectory, connectionString))
            // Not proxied: clients talk to the server itself, on a port chosen at start, so a
            // second checkout's servers never collide with these.
            .WithEndpoint(name: LocalServerResource.PrimaryEndpoint, scheme: "tcp", isProxied: false)
            .ExcludeFromManifest();

    private static EndpointReferenceExpression PrimaryPort(this IResource resource) =>
        ((LocalServerResource)resource).Endpoint.Property(EndpointProperty.TargetPort);

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
