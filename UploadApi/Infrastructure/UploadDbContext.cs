using Microsoft.EntityFrameworkCore;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Infrastructure;

public sealed class UploadDbContext(DbContextOptions<UploadDbContext> options) : DbContext(options)
{
    public DbSet<Upload> Uploads => Set<Upload>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(UploadDbContext).Assembly);
}
