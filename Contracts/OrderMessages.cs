namespace Reference.Contracts;

// The messages of the shop's orders, published by InventoryApi (which records orders) for any
// service that wants to react: a mailer, a warehouse, a payment provider's hook.

/// <summary>A shopper placed an order; its units have left on-hand and it awaits payment.</summary>
public sealed record OrderPlaced(
    Guid OrderId, string Number, string CustomerEmail, string Currency, decimal Total,
    IReadOnlyList<OrderPlacedLine> Lines, DateTimeOffset PlacedAt);

public sealed record OrderPlacedLine(Guid ProductId, string Sku, int Quantity, decimal UnitPrice);

/// <summary>The order was paid (today: marked so by staff).</summary>
public sealed record OrderPaid(Guid OrderId, string Number, DateTimeOffset PaidAt);

/// <summary>The order was cancelled and its units went back on-hand.</summary>
public sealed record OrderCancelled(Guid OrderId, string Number, DateTimeOffset CancelledAt);
