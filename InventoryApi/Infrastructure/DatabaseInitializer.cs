using Microsoft.EntityFrameworkCore;

namespace Reference.InventoryApi.Infrastructure;

/// <summary>
/// Migrates inventorydb and seeds the demo catalogue into an empty one before the service takes
/// requests; the first of the replicas starting together does it, the others find it done.
/// </summary>
internal sealed class DatabaseInitializer(
    IServiceProvider services,
    IConfiguration configuration,
    ILogger<DatabaseInitializer> logger) : IHostedService
{
    public const string SeedDemoCatalogKey = "Inventory:SeedDemoCatalog";

    public Task StartAsync(CancellationToken cancellationToken) =>
        services.MigrateUnderLockAsync<InventoryDbContext>(SeedAsync, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task SeedAsync(InventoryDbContext db, CancellationToken cancellationToken)
    {
        if (configuration.GetValue(SeedDemoCatalogKey, true) && !await db.Products.AnyAsync(cancellationToken))
        {
            db.Products.AddRange(DemoCatalog.Products(DateTimeOffset.UtcNow));
            await db.SaveChangesAsync(cancellationToken);
            logger.LogInformation("Seeded the demo catalogue.");
        }
    }
}
