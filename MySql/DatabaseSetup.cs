using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MySqlConnector;

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
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        await WhenReachableAsync(admin.ConnectionString, logger, timeout.Token);
        await CreateDatabaseAndUserAsync(admin.ConnectionString, service, timeout.Token);
        logger.LogInformation("Database {Database} and its user {User} (data rights only) are in place.", service.Database, service.UserID);

        admin.Database = service.Database;
        var options = new DbContextOptionsBuilder<TContext>()
            .UseMySql(admin.ConnectionString, ServerVersion.Parse(builder.Configuration[MySqlDbContexts.ServerVersionKey] ?? MySqlDbContexts.DefaultServerVersion))
            .Options;
        await using (var db = ActivatorUtilities.CreateInstance<TContext>(host.Services, options))
        {
            await db.Database.MigrateAsync(timeout.Token);
            logger.LogInformation("Migrations of {Database} applied.", service.Database);
            if (seed is not null)
            {
                await seed(db, host.Services, timeout.Token);
            }
        }
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

    private static async Task WhenReachableAsync(string connectionString, ILogger logger, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = new MySqlConnection(connectionString);
                await connection.OpenAsync(ct);
                return;
            }
            catch (MySqlException e) when (!ct.IsCancellationRequested && (e.IsTransient || e.ErrorCode is MySqlErrorCode.UnableToConnectToHost))
            {
                logger.LogWarning("MySQL not reachable yet (attempt {Attempt}): {Message}", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), ct);
            }
        }
    }

    private static string Required(IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name)
        ?? throw new InvalidOperationException($"ConnectionStrings:{name} is not set. Run the set-up from the AppHost, or set ConnectionStrings__{name}.");

    private static string Identifier(string name) => "`" + name.Replace("`", "``", StringComparison.Ordinal) + "`";
}
