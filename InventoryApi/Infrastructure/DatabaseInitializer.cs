using Microsoft.EntityFrameworkCore;
using MySqlConnector;

namespace Reference.InventoryApi.Infrastructure;

/// <summary>
/// Applies the checked-in migrations and seeds the demo catalogue before the service takes requests.
/// Several replicas start at once, so the work runs under a MariaDB named lock (GET_LOCK): the first
/// replica migrates and seeds, the others wait and then find nothing left to do.
/// </summary>
internal sealed class DatabaseInitializer(
    IServiceScopeFactory scopes,
    IConfiguration configuration,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public const string SeedDemoCatalogKey = "Inventory:SeedDemoCatalog";
    private const string LockName = "reference-inventorydb-migrate";
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartupTimeout);
        // The database may still be coming up when the service does.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await InitializeAsync(timeout.Token);
                return;
            }
            catch (MySqlException e) when (!timeout.IsCancellationRequested && IsUnreachable(e))
            {
                logger.LogWarning("Database not reachable yet (attempt {Attempt}): {Message}", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), timeout.Token);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<InventoryDbContext>();

        // The lock belongs to this connection, separate from the ones EF uses for migrating.
        await using var lockConnection = new MySqlConnection(db.Database.GetConnectionString());
        await lockConnection.OpenAsync(cancellationToken);
        await using (var acquire = new MySqlCommand("SELECT GET_LOCK(@name, 120)", lockConnection))
        {
            acquire.Parameters.AddWithValue("@name", LockName);
            if (Convert.ToInt64(await acquire.ExecuteScalarAsync(cancellationToken) ?? 0L) != 1)
            {
                throw new InvalidOperationException("Timed out waiting for another replica to migrate inventorydb.");
            }
        }

        try
        {
            await db.Database.MigrateAsync(cancellationToken);
            if (configuration.GetValue(SeedDemoCatalogKey, true) && !await db.Products.AnyAsync(cancellationToken))
            {
                db.Products.AddRange(DemoCatalog.Products(DateTimeOffset.UtcNow));
                await db.SaveChangesAsync(cancellationToken);
                logger.LogInformation("Seeded the demo catalogue.");
            }
        }
        finally
        {
            await using var release = new MySqlCommand("SELECT RELEASE_LOCK(@name)", lockConnection);
            release.Parameters.AddWithValue("@name", LockName);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    private static bool IsUnreachable(MySqlException e) =>
        e.ErrorCode is MySqlErrorCode.UnableToConnectToHost or MySqlErrorCode.UnknownDatabase;
}
