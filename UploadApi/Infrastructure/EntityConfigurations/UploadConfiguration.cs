using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.UploadApi.Model;

namespace Reference.UploadApi.Infrastructure.EntityConfigurations;

public sealed class UploadEntityTypeConfiguration : IEntityTypeConfiguration<Upload>
{
    private static readonly JsonSerializerOptions VariantJson = new(JsonSerializerDefaults.Web);

    public void Configure(EntityTypeBuilder<Upload> upload)
    {
        upload.ToTable("uploads");
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
        upload.Property(u => u.Variants)
            .HasColumnType("json")
            .HasConversion(
                v => JsonSerializer.Serialize(v, VariantJson),
                v => JsonSerializer.Deserialize<List<UploadVariant>>(v, VariantJson) ?? new List<UploadVariant>(),
                new ValueComparer<List<UploadVariant>>(
                    (a, b) => a!.SequenceEqual(b!),
                    v => v.Aggregate(0, (hash, variant) => HashCode.Combine(hash, variant.GetHashCode())),
                    v => v.ToList()));

        upload.HasIndex(u => u.IdempotencyKey).IsUnique();
        upload.HasIndex(u => u.ProductId);
        // The sweeper's query: stuck uploads whose next attempt is due.
        upload.HasIndex(u => new { u.Status, u.NextAttemptAt });
    }
}
