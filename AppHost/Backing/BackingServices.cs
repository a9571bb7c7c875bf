using Microsoft.Extensions.Configuration;

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
public static partial class BackingServiceSetup
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
}
