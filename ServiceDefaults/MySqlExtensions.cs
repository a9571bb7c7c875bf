using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The small piece of Aspire.Pomelo.EntityFrameworkCore.MySql this project needs
/// (that package is not available here): a pooled DbContext on Pomelo from a named
/// connection string, with retries, a health check and tracing.
/// </summary>
public static class MySqlExtensions
{
    /// <summary>
    /// The server version Pomelo writes SQL for, read from <c>MySql:ServerVersion</c>
    /// (e.g. <c>8.4.0-mysql</c> or <c>10.11.0-mariadb</c>). Configured rather than detected
    /// so start-up makes no round trip and works while the database is still coming up.
    /// The AppHost sets it from the server it starts.
    /// </summary>
    public const string ServerVersionKey = "MySql:ServerVersion";
    public const string DefaultServerVersion = "8.4.0-mysql";

    /// <param name="unreachableStatus">
    /// What <c>/health</c> reports while the database does not answer: <see cref="HealthStatus.Degraded"/>
    /// for a service that still serves (from its cache) without it, so the gateway keeps routing to it.
    /// </param>
    public static IHostApplicationBuilder AddMySqlDbContext<TContext>(
        this IHostApplicationBuilder builder,
        string connectionName,
        Action<DbContextOptionsBuilder>? configure = null,
        HealthStatus unreachableStatus = HealthStatus.Unhealthy)
        where TContext : DbContext
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{connectionName} is not set. Run the service from the AppHost, or set ConnectionStrings__{connectionName}.");
        var serverVersion = GetServerVersion(builder.Configuration);

        builder.Services.AddDbContextPool<TContext>(options =>
        {
            options.UseMySql(connectionString, serverVersion, mysql =>
                // Rides out a server restart (a couple of seconds) without making a client wait long for its 503.
                mysql.EnableRetryOnFailure(maxRetryCount: 4, maxRetryDelay: TimeSpan.FromSeconds(1), errorNumbersToAdd: null));
            configure?.Invoke(options);
        });

        builder.Services.AddHealthChecks()
            .AddDbContextCheck<TContext>($"mysql-{connectionName}", unreachableStatus, ["ready"]);

        return builder;
    }

    public static ServerVersion GetServerVersion(IConfiguration configuration) =>
        ServerVersion.Parse(configuration[ServerVersionKey] ?? DefaultServerVersion);
}
