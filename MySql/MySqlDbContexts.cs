using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The small piece of Aspire.Pomelo.EntityFrameworkCore.MySql this project needs
/// (that package is not available here): a pooled DbContext on Pomelo from a named
/// connection string, with retries, a health check and tracing.
/// </summary>
public static class MySqlDbContexts
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
        });

        builder.Services.AddHealthChecks()
            .AddDbContextCheck<TContext>($"mysql-{connectionName}", unreachableStatus, ["ready"]);
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter("MySqlConnector"))
            .WithTracing(tracing => tracing.AddSource("MySqlConnector").AddEntityFrameworkCoreInstrumentation());

        return builder;
    }

    private static ServerVersion GetServerVersion(IConfiguration configuration) =>
        ServerVersion.Parse(configuration[ServerVersionKey] ?? DefaultServerVersion);

    /// <summary>
    /// Applies <typeparamref name="TContext"/>'s checked-in migrations, then <paramref name="afterMigrate"/>
    /// (seeding, say), before the service takes requests. Replicas start together, so this runs under
    /// a server-side named lock on the database (GET_LOCK): they take turns, and the later ones find
    /// nothing left to do instead of racing on the same DDL. Retries while the server is still coming up.
    /// </summary>
    public static async Task MigrateUnderLockAsync<TContext>(
        this IServiceProvider services,
        Func<TContext, CancellationToken, Task>? afterMigrate = null,
        CancellationToken cancellationToken = default)
        where TContext : DbContext
    {
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(MySqlDbContexts));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = services.CreateAsyncScope();
                await MigrateUnderLockAsync(scope.ServiceProvider.GetRequiredService<TContext>(), afterMigrate, timeout.Token);
                return;
            }
            catch (MySqlException e) when (!timeout.IsCancellationRequested && IsStartingUp(e))
            {
                logger.LogWarning("Database {Context} not reachable yet (attempt {Attempt}): {Message}", typeof(TContext).Name, attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), timeout.Token);
            }
        }
    }

    private static async Task MigrateUnderLockAsync<TContext>(
        TContext db, Func<TContext, CancellationToken, Task>? afterMigrate, CancellationToken cancellationToken)
        where TContext : DbContext
    {
        // GET_LOCK belongs to the session, so the lock has its own connection, open from lock to release.
        await using var lockConnection = new MySqlConnection(db.Database.GetConnectionString());
        await lockConnection.OpenAsync(cancellationToken);
        var lockName = $"migrate:{lockConnection.Database}";
        await using (var acquire = new MySqlCommand("SELECT GET_LOCK(@name, 120)", lockConnection))
        {
            acquire.Parameters.AddWithValue("@name", lockName);
            if (Convert.ToInt64(await acquire.ExecuteScalarAsync(cancellationToken) ?? 0L) != 1)
            {
                throw new TimeoutException($"Another replica held {lockName} for two minutes.");
            }
        }

        try
        {
            await db.Database.MigrateAsync(cancellationToken);
            if (afterMigrate is not null)
            {
                await afterMigrate(db, cancellationToken);
            }
        }
        finally
        {
            await using var release = new MySqlCommand("SELECT RELEASE_LOCK(@name)", lockConnection);
            release.Parameters.AddWithValue("@name", lockName);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    // The server still starting, or the AppHost not done creating the database.
    private static bool IsStartingUp(MySqlException e) =>
        e.IsTransient || e.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.UnknownDatabase;
}
