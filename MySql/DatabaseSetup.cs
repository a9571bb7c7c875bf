using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;
using Polly;
using Polly.Retry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// A service's database set-up, run once per start as its own one-shot process (<c>--migrate</c>) that
/// the replicas wait for: as the MySQL administrator (<c>ConnectionStrings:mysql-admin</c>) it creates
/// the database and the service's own user with data rights only (SELECT, INSERT, UPDATE, DELETE),
/// keeps that user's password in step with the service's connection string, applies the migrations
/// and seeds. The service itself then connects as that user and cannot change the schema.
/// </summary>
public static class DatabaseSetup
{
    public const string Argument = "--migrate";
    public const string AdminConnectionName = "mysql-admin";

    /// <summary>For in-process tests only: migrate at start (under a lock) with the service's own credentials.</summary>
    public const string MigrateAtStartKey = "MySql:MigrateAtStart";

    public static bool IsRequested(string[] args) => args.Contains(Argument, StringComparer.Ordinal);

    /// <summary>Runs the set-up for the database named by <paramref name="connectionName"/>; the process then ends.</summary>
    public static async Task RunDatabaseSetupAsync<TContext>(
        this HostApplicationBuilder builder, string connectionName, Func<TContext, IServiceProvider, CancellationToken, Task>? seed = null)
        where TContext : DbContext
    {
        using var host = builder.Build();
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseSetup));
        var service = new MySqlConnectionStringBuilder(Required(builder.Configuration, connectionName));
        var admin = new MySqlConnectionStringBuilder(Required(builder.Configuration, AdminConnectionName)) { Database = "" };
        // Bounds every retry below: a set-up that cannot finish fails the run with its last error.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var retry = TransientRetry(logger);

        await retry.ExecuteAsync(async ct => await CreateDatabaseAndUserAsync(admin.ConnectionString, service, ct), timeout.Token);
        logger.LogInformation("Database {Database} and its user {User} (data rights only) are in place.", service.Database, service.UserID);

        admin.Database = service.Database;
        var options = new DbContextOptionsBuilder<TContext>()
            .UseMySql(admin.ConnectionString, ServerVersion.Parse(builder.Configuration[MySqlDbContexts.ServerVersionKey] ?? MySqlDbContexts.DefaultServerVersion))
            .Options;
        // Each attempt on a fresh context: migrations already applied are skipped, and the seeds check before they insert.
        await retry.ExecuteAsync(async ct =>
        {
            await using var db = ActivatorUtilities.CreateInstance<TContext>(host.Services, options);
            await db.Database.MigrateAsync(ct);
            logger.LogInformation("Migrations of {Database} applied.", service.Database);
            if (seed is not null)
            {
                await seed(db, host.Services, ct);
            }
        }, timeout.Token);
    }

    /// <summary>
    /// Retries every step on a transient MySQL fault (a server still starting, a connection lost under load),
    /// not only the first connection: on a loaded machine a set-up that failed mid-way failed the whole run.
    /// </summary>
    private static ResiliencePipeline TransientRetry(ILogger logger) => new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(500),
            MaxDelay = TimeSpan.FromSeconds(5),
            OnRetry = args =>
            {
                logger.LogWarning("MySQL not ready (attempt {Attempt}), retrying in {Delay}: {Message}",
                    args.AttemptNumber + 1, args.RetryDelay, args.Outcome.Exception?.Message);
                return ValueTask.CompletedTask;
            },
        })
        .Build();

    /// <summary>A transient MySQL fault anywhere in the exception's chain (EF Core wraps some in its own exceptions).</summary>
    private static bool IsTransient(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is MySqlException mySql && (mySql.IsTransient || mySql.ErrorCode is MySqlErrorCode.UnableToConnectToHost))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task CreateDatabaseAndUserAsync(string adminConnectionString, MySqlConnectionStringBuilder service, CancellationToken ct)
    {
        await using var connection = new MySqlConnection(adminConnectionString);
        await connection.OpenAsync(ct);
        var database = Identifier(service.Database);
        // '%': the service connects from another container in compose; the password is what protects it.
        string[] statements =
        [
            $"CREATE DATABASE IF NOT EXISTS {database} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci",
            "CREATE USER IF NOT EXISTS @user@'%' IDENTIFIED BY @password",
            "ALTER USER @user@'%' IDENTIFIED BY @password",
            $"GRANT SELECT, INSERT, UPDATE, DELETE ON {database}.* TO @user@'%'",
        ];
        foreach (var statement in statements)
        {
            await using var command = new MySqlCommand(statement, connection);
            command.Parameters.AddWithValue("@user", service.UserID);
            command.Parameters.AddWithValue("@password", service.Password);
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    private static string Required(IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name)
        ?? throw new InvalidOperationException($"ConnectionStrings:{name} is not set. Run the set-up from the AppHost, or set ConnectionStrings__{name}.");

    private static string Identifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";
}
