using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Reference.UploadApi.Infrastructure;

/// <summary>
/// For <c>dotnet ef migrations add</c> only: a fixed server version, so adding a migration
/// needs no running database.
/// </summary>
public sealed class UploadDbContextFactory : IDesignTimeDbContextFactory<UploadDbContext>
{
    public UploadDbContext CreateDbContext(string[] args)
    {
        var options = new DbContextOptionsBuilder<UploadDbContext>()
            .UseMySql("Server=localhost;Database=uploaddb", ServerVersion.Parse("10.11.0-mariadb"))
            .Options;
        return new UploadDbContext(options);
    }
}
