using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Reference.UploadApi.Infrastructure;

/// <summary>For <c>dotnet ef migrations add</c>: a fixed server version, so no database is needed.</summary>
internal sealed class UploadDbContextFactory : IDesignTimeDbContextFactory<UploadDbContext>
{
    public UploadDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<UploadDbContext>()
            .UseMySql("Server=localhost;Database=uploaddb", ServerVersion.Parse("10.11.0-mariadb"))
            .Options);
}
