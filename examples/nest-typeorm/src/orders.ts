// The REST side: POST /orders asks the stock microservice over NATS, then stores the order.
import { Body, ConflictException, Controller, Get, Inject, NotFoundException, Param, ParseIntPipe, Post } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { InjectRepository } from '@nestjs/typeorm';
import { lastValueFrom } from 'rxjs';
import { Repository } from 'typeorm';
import { Order } from './order.entity';
import { STOCK_SUBJECT } from './names';

export const STOCK = 'STOCK';

@Controller('orders')
export class OrdersController {
  constructor(
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    @Inject(STOCK) private readonly stock: ClientProxy,
  ) {}

  @Post()
  async create(@Body() body: { item: string; quantity: number }): Promise<Order> {
    const { available } = await lastValueFrom(this.stock.send<{ available: number }>(STOCK_SUBJECT, body.item));
    if (available < body.quantity) throw new ConflictException(`only ${available} ${body.item} left`);
    return this.orders.save(this.orders.create(body));
  }

  @Get(':id')
  async one(@Param('id', ParseIntPipe) id: number): Promise<Order> {
    const order = await this.orders.findOneBy({ id });
    if (order === null) throw new NotFoundException(`order ${id} not found`);
    return order;
  }
}
