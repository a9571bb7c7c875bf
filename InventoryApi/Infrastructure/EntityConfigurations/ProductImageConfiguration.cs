using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Infrastructure.EntityConfigurations;

internal sealed class ProductImageConfiguration : IEntityTypeConfiguration<ProductImage>
{
    public void Configure(EntityTypeBuilder<ProductImage> image)
    {
        image.ToTable("ProductImages");
        image.HasKey(i => i.Id);
        // Consuming the same ImageProcessed twice must attach once, also when two replicas race.
        image.HasIndex(i => new { i.ProductId, i.UploadId }).IsUnique();
        image.Property(i => i.Alt).HasMaxLength(300);
        image.Property(i => i.Placeholder).HasMaxLength(ProductImage.PlaceholderMaxLength).IsUnicode(false);
        // Variants are only ever read and written with their image, so one JSON column is enough.
        image.Property(i => i.Variants).HasJsonColumn();
    }
}
