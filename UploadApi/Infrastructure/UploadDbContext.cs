using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Reference.UploadApi.Infrastructure.EntityConfigurations;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Infrastructure;

public sealed class UploadDbContext(DbContextOptions<UploadDbContext> options) : DbContext(options)
{
    public DbSet<Upload> Uploads => Set<Upload>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.ApplyConfiguration(new UploadEntityTypeConfiguration());

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        // MySQL's datetime has no zone: everything stored is UTC, and reads say so.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
