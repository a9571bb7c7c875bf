using Microsoft.EntityFrameworkCore;

namespace Reference.InventoryApi.Infrastructure;

/// <summary>
/// Seeds the demo catalogue into an empty inventorydb after its migrations: run by the one-shot
/// set-up (<c>--migrate</c>) the replicas wait for, or at start where <c>MySql:MigrateAtStart</c> asks
/// (in-process tests, which have no set-up step).
/// </summary>
internal sealed class DatabaseInitializer(IServiceProvider services) : IHostedService
{
    public const string SeedDemoCatalogKey = "Inventory:SeedDemoCatalog";

    public Task StartAsync(CancellationToken cancellationToken) =>
        services.MigrateUnderLockAsync<InventoryDbContext>((db, ct) => SeedAsync(db, services, ct), cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static async Task SeedAsync(InventoryDbContext db, IServiceProvider services, CancellationToken cancellationToken)
    {
        var configuration = services.GetRequiredService<IConfiguration>();
        if (configuration.GetValue(SeedDemoCatalogKey, true) && !await db.Products.AnyAsync(cancellationToken))
        {
            db.Products.AddRange(DemoCatalog.Products(DateTimeOffset.UtcNow));
            await db.SaveChangesAsync(cancellationToken);
            services.GetRequiredService<ILogger<DatabaseInitializer>>().LogInformation("Seeded the demo catalogue.");
        }
    }
}
