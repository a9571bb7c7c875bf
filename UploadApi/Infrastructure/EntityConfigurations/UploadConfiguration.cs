using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Infrastructure.EntityConfigurations;

internal sealed class UploadConfiguration : IEntityTypeConfiguration<Upload>
{
    public void Configure(EntityTypeBuilder<Upload> upload)
    {
        upload.ToTable("Uploads");
        upload.HasKey(u => u.Id);
        upload.Property(u => u.Id).ValueGeneratedNever();
        upload.Property(u => u.Status).HasConversion<string>().HasMaxLength(16);
        upload.Property(u => u.Reason).HasMaxLength(1000);
        upload.Property(u => u.Sha256).HasMaxLength(64).IsFixedLength();
        upload.Property(u => u.OriginalKey).HasMaxLength(200);
        upload.Property(u => u.ContentType).HasMaxLength(50);
        upload.Property(u => u.IdempotencyKey).HasMaxLength(200);
        upload.Property(u => u.RequestFingerprint).HasMaxLength(64).IsFixedLength();

        // The variant list is written once, as a whole, and only ever read with its upload:
        // a JSON column keeps it in the row instead of a child table nobody queries.
        upload.Property(u => u.Variants).HasJsonColumn();

        upload.HasIndex(u => u.IdempotencyKey).IsUnique();
        upload.HasIndex(u => u.ProductId);
        // The sweeper's query: stuck uploads whose next attempt is due.
        upload.HasIndex(u => new { u.Status, u.NextAttemptAt });
    }
}
