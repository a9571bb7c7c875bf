using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Infrastructure.EntityConfigurations;

internal sealed class ProductConfiguration : IEntityTypeConfiguration<Product>
{
    public const int SkuLength = 64;
    public const int NameLength = 200;
    public const int DescriptionLength = 4000;
    public const int CategoryLength = 100;

    public void Configure(EntityTypeBuilder<Product> product)
    {
        product.ToTable("Products", table =>
        {
            // The last line of defence against oversell: the conditional UPDATEs keep these true,
            // the database refuses anything that would not.
            table.HasCheckConstraint("CK_Products_Reserved_NotNegative", "`Reserved` >= 0");
            table.HasCheckConstraint("CK_Products_Available_NotNegative", "`OnHand` >= `Reserved`");
        });
        product.HasKey(p => p.Id);
        product.Property(p => p.Id).ValueGeneratedNever();
        product.Property(p => p.Sku).HasMaxLength(SkuLength);
        product.HasIndex(p => p.Sku).IsUnique();
        product.Property(p => p.Name).HasMaxLength(NameLength);
        product.Property(p => p.Description).HasMaxLength(DescriptionLength);
        product.Property(p => p.Category).HasMaxLength(CategoryLength);
        product.HasIndex(p => new { p.Category, p.Name });
        product.HasIndex(p => p.Name);
        // The search (ProductSearch): word prefixes of name and SKU, without reading every row.
        product.HasIndex(p => new { p.Name, p.Sku }, "FT_Products_Name_Sku").IsFullText();
        product.Property(p => p.Price).HasPrecision(19, 4);
        product.Property(p => p.Currency).HasMaxLength(3).IsFixedLength();
        product.Ignore(p => p.Available);
        product.Property(p => p.Version).IsConcurrencyToken();
        product.HasMany(p => p.Images).WithOne().HasForeignKey(i => i.ProductId).OnDelete(DeleteBehavior.Cascade);
    }
}
