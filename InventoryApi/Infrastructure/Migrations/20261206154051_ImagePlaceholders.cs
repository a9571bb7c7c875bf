using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reference.InventoryApi.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class ImagePlaceholders : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Placeholder",
                table: "ProductImages",
                type: "varchar(1000)",
                unicode: false,
                maxLength: 1000,
                nullable: true)
                .Annotation("MySql:CharSet", "utf8mb4");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Placeholder",
                table: "ProductImages");
        }
    }
}
