using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Infrastructure.EntityConfigurations;

internal sealed class ReservationConfiguration : IEntityTypeConfiguration<Reservation>
{
    public void Configure(EntityTypeBuilder<Reservation> reservation)
    {
        reservation.ToTable("Reservations");
        reservation.HasKey(r => r.Id);
        reservation.Property(r => r.Id).ValueGeneratedNever();
        reservation.Property(r => r.Status).HasConversion<string>().HasMaxLength(16);
        // The sweeper's query: Pending reservations past their expiry.
        reservation.HasIndex(r => new { r.Status, r.ExpiresAt });
        // The caps on holds count a cart's and an address's Pending holds.
        reservation.Property(r => r.CartId).HasMaxLength(OrderConfiguration.CartIdLength);
        reservation.HasIndex(r => new { r.CartId, r.Status });
        reservation.Property(r => r.ClientAddress).HasMaxLength(OrderConfiguration.ClientAddressLength);
        reservation.HasIndex(r => new { r.ClientAddress, r.Status });
        reservation.HasMany(r => r.Lines).WithOne().HasForeignKey(l => l.ReservationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReservationLineConfiguration : IEntityTypeConfiguration<ReservationLine>
{
    public void Configure(EntityTypeBuilder<ReservationLine> line)
    {
        line.ToTable("ReservationLines");
        line.HasKey(l => l.Id);
        line.HasIndex(l => l.ProductId);
    }
}
