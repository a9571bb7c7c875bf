using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Infrastructure.EntityConfigurations;

internal sealed class OrderConfiguration : IEntityTypeConfiguration<Order>
{
    public const int NameLength = 100;
    public const int EmailLength = 254;
    public const int IdempotencyKeyLength = 64;
    public const int CartIdLength = 32;
    public const int ClientAddressLength = 45;

    public void Configure(EntityTypeBuilder<Order> order)
    {
        order.ToTable("Orders");
        order.HasKey(o => o.Id);
        order.Property(o => o.Id).ValueGeneratedNever();
        order.Property(o => o.Number).HasMaxLength(16);
        order.HasIndex(o => o.Number).IsUnique();
        order.Property(o => o.Status).HasConversion<string>().HasMaxLength(16);
        order.Property(o => o.CartId).HasMaxLength(CartIdLength);
        order.Property(o => o.IdempotencyKey).HasMaxLength(IdempotencyKeyLength);
        // The database, not a read before the insert, decides a race between two "Place order" clicks.
        order.HasIndex(o => new { o.CartId, o.IdempotencyKey }).IsUnique();
        order.HasIndex(o => o.ReservationId).IsUnique();
        order.Property(o => o.ClientAddress).HasMaxLength(ClientAddressLength);
        order.HasIndex(o => new { o.ClientAddress, o.Status });
        order.HasIndex(o => new { o.Status, o.CreatedAt });
        order.Property(o => o.CustomerName).HasMaxLength(NameLength);
        order.Property(o => o.CustomerEmail).HasMaxLength(EmailLength);
        order.Property(o => o.Currency).HasMaxLength(3).IsFixedLength();
        order.Property(o => o.Total).HasPrecision(19, 4);
        order.HasMany(o => o.Lines).WithOne().HasForeignKey(l => l.OrderId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OrderLineConfiguration : IEntityTypeConfiguration<OrderLine>
{
    public void Configure(EntityTypeBuilder<OrderLine> line)
    {
        line.ToTable("OrderLines");
        line.HasKey(l => l.Id);
        line.Property(l => l.Sku).HasMaxLength(ProductConfiguration.SkuLength);
        line.Property(l => l.Name).HasMaxLength(ProductConfiguration.NameLength);
        line.Property(l => l.UnitPrice).HasPrecision(19, 4);
        line.HasIndex(l => l.ProductId);
    }
}

internal sealed class OrderEventConfiguration : IEntityTypeConfiguration<OrderEvent>
{
    public void Configure(EntityTypeBuilder<OrderEvent> orderEvent)
    {
        orderEvent.ToTable("OrderEvents");
        orderEvent.HasKey(e => e.Id);
        orderEvent.Property(e => e.Type).HasMaxLength(32);
        // The publisher's query: events not yet on the bus, oldest first.
        orderEvent.HasIndex(e => new { e.PublishedAt, e.Id });
    }
}
