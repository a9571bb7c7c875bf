using System.Security.Cryptography;
using System.Text;
using Reference.InventoryApi.Model;

namespace Reference.InventoryApi.Infrastructure;

/// <summary>Two dozen products in four categories, seeded once into an empty database.</summary>
public static class DemoCatalog
{
    private static readonly (string Sku, string Name, string Category, decimal Price, int Stock, string Description)[] Items =
    [
        ("KITE-DELTA-150", "Delta Kite 150", "Kites", 34.90m, 40, "A forgiving delta for light winds and first flights."),
        ("KITE-BOX-80", "Box Kite 80", "Kites", 49.00m, 25, "Classic cellular box kite; steady in gusty air."),
        ("KITE-STUNT-DUO", "Dual-Line Stunt Kite", "Kites", 89.50m, 15, "Fast, precise and loud in a turn."),
        ("KITE-FOIL-2M", "Foil Kite 2 m", "Kites", 129.00m, 10, "Frameless ram-air foil that packs into a pocket."),
        ("KITE-DRAGON-6M", "Dragon Kite 6 m", "Kites", 24.95m, 30, "A long tail that children chase across the beach."),
        ("KITE-LINE-100", "Kite Line 100 m", "Kites", 12.00m, 120, "Braided polyester line on a hand winder."),
        ("CAMP-TENT-2P", "Two-Person Tent", "Camping", 189.00m, 12, "Freestanding, 2.1 kg, pitches in five minutes."),
        ("CAMP-BAG-3S", "Three-Season Sleeping Bag", "Camping", 119.00m, 20, "Comfort to 2 °C, compresses to a loaf."),
        ("CAMP-STOVE-GAS", "Compact Gas Stove", "Camping", 39.90m, 35, "Boils a litre in three and a half minutes."),
        ("CAMP-LAMP-USB", "Rechargeable Camp Lamp", "Camping", 29.00m, 50, "Warm light for a night, charges over USB-C."),
        ("CAMP-MAT-FOAM", "Closed-Cell Sleeping Mat", "Camping", 24.00m, 45, "Cannot puncture; doubles as a sit pad."),
        ("CAMP-FILTER-1L", "Water Filter Bottle", "Camping", 44.00m, 30, "Drink from the stream; filters 1,000 litres."),
        ("KITCH-KNIFE-CHEF", "Chef's Knife 20 cm", "Kitchen", 79.00m, 18, "Carbon steel, takes an edge on any stone."),
        ("KITCH-PAN-CAST", "Cast-Iron Pan 26 cm", "Kitchen", 54.00m, 22, "Seasoned and ready; outlives its cook."),
        ("KITCH-BOARD-OAK", "Oak Cutting Board", "Kitchen", 36.00m, 28, "End-grain oak, kind to knives."),
        ("KITCH-GRINDER", "Hand Coffee Grinder", "Kitchen", 65.00m, 16, "Steel burrs, thirty clicks from espresso to press."),
        ("KITCH-KETTLE-GOOSE", "Gooseneck Kettle", "Kitchen", 58.00m, 14, "Pours a thin, steady stream for filter coffee."),
        ("KITCH-JARS-SET", "Storage Jar Set", "Kitchen", 27.50m, 40, "Six glass jars with beech lids."),
        ("BOOK-WIND", "Reading the Wind", "Books", 19.90m, 60, "How weather makes flying easy or impossible."),
        ("BOOK-KNOTS", "The Pocket Book of Knots", "Books", 9.90m, 80, "Forty knots, each with a use and a drawing."),
        ("BOOK-TRAILS", "Trails of the North", "Books", 24.00m, 35, "Twenty walks, two to five days each."),
        ("BOOK-FIRE-COOK", "Cooking over Fire", "Books", 29.00m, 25, "From embers to dutch oven, with recipes."),
        ("BOOK-STARS", "Stars for Campers", "Books", 16.50m, 45, "Finding your way by the night sky."),
        ("BOOK-BREAD", "Slow Bread", "Books", 22.00m, 30, "Sourdough at home, one day at a time."),
    ];

    public static IReadOnlyList<Product> Products(DateTimeOffset now) =>
        Items.Select(item => new Product
        {
            Id = IdOf(item.Sku),
            Sku = item.Sku,
            Name = item.Name,
            Description = item.Description,
            Category = item.Category,
            Price = item.Price,
            Currency = "EUR",
            OnHand = item.Stock,
            CreatedAt = now,
            UpdatedAt = now,
            Version = 1,
        }).ToList();

    /// <summary>Demo ids are derived from the SKU so examples, benchmarks and tests can name them.</summary>
    public static Guid IdOf(string sku) =>
        new(SHA256.HashData(Encoding.UTF8.GetBytes("reference-inventory-demo:" + sku)).AsSpan(0, 16));
}
