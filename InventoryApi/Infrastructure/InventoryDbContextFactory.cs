using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Reference.InventoryApi.Infrastructure;

/// <summary>For <c>dotnet ef migrations add</c>: a fixed server version, so no database is needed.</summary>
internal sealed class InventoryDbContextFactory : IDesignTimeDbContextFactory<InventoryDbContext>
{
    public InventoryDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<InventoryDbContext>()
            .UseMySql("Server=localhost;Database=inventorydb", ServerVersion.Parse("10.11.0-mariadb"))
            .Options);
}
