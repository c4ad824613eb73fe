import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { ORDERS_TABLE } from './names';

@Entity(ORDERS_TABLE)
export class Order {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar' })
  item: string;

  @Column({ type: 'integer' })
  quantity: number;
}
