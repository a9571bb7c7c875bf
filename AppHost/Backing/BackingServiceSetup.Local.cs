using System.Security.Cryptography;
using System.Text;

namespace Reference.AppHost.Backing;

/// <summary>Local mode: MariaDB, Redis and RabbitMQ as processes of this machine, started by LocalServers/*.sh.</summary>
public static partial class BackingServiceSetup
{
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

    private static IResourceBuilder<LocalServerResource> AddLocalServer(
        IDistributedApplicationBuilder builder, string name, Func<EndpointReference, ReferenceExpression> connectionString) =>
        builder.AddResource(new LocalServerResource(name, builder.AppHostDirectory, connectionString))
            // Not proxied: clients talk to the server itself, on a port chosen at start, so a
            // second checkout's servers never collide with these.
            .WithEndpoint(name: LocalServerResource.PrimaryEndpoint, scheme: "tcp", isProxied: false)
            .ExcludeFromManifest();

    private static EndpointReferenceExpression PrimaryPort(this IResource resource) =>
        ((LocalServerResource)resource).Endpoint.Property(EndpointProperty.TargetPort);
}
